#include "http/ws_routes.h"

#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "http/rest_routes.h"

/* The contract's FileDescriptorSet, embedded at build time (CMakeLists.txt, descriptor_set.c). */
extern const unsigned char api_descriptor_set[];
extern const size_t api_descriptor_set_size;

/* The method `name` of service `service` (a full name, "package.Service") in the set, or NULL. */
static const Google__Protobuf__MethodDescriptorProto *
declared_method(const Google__Protobuf__FileDescriptorSet *set, const char *service,
                size_t service_len, const char *name) {
    for (size_t f = 0; f < set->n_file; f++) {
        const Google__Protobuf__FileDescriptorProto *file = set->file[f];
        size_t package_len = file->package != NULL ? strlen(file->package) : 0;
        if (package_len == 0 || package_len + 1 >= service_len ||
            memcmp(file->package, service, package_len) != 0 || service[package_len] != '.')
            continue;
        const char *short_name = service + package_len + 1;
        size_t short_len = service_len - package_len - 1;
        for (size_t s = 0; s < file->n_service; s++) {
            const Google__Protobuf__ServiceDescriptorProto *svc = file->service[s];
            if (svc->name == NULL || strlen(svc->name) != short_len ||
                memcmp(svc->name, short_name, short_len) != 0)
                continue;
            for (size_t m = 0; m < svc->n_method; m++)
                if (svc->method[m]->name != NULL && strcmp(svc->method[m]->name, name) == 0)
                    return svc->method[m];
        }
    }
    return NULL;
}

int ws_routes_build(const char *const *grpc_paths, size_t path_count, ws_route **routes,
                    size_t *route_count) {
    Google__Protobuf__FileDescriptorSet *set = google__protobuf__file_descriptor_set__unpack(
        NULL, api_descriptor_set_size, api_descriptor_set);
    ws_route *out = calloc(path_count ? path_count : 1, sizeof *out);
    if (set == NULL || out == NULL) {
        if (set != NULL)
            google__protobuf__file_descriptor_set__free_unpacked(set, NULL);
        free(out);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < path_count; i++) {
        const char *path = grpc_paths[i];
        const ProtobufCMethodDescriptor *method = rest_routes_method(path);
        const char *slash = method != NULL ? strchr(path + 1, '/') : NULL;
        if (slash == NULL || strlen(path) >= sizeof out[n].grpc_path)
            continue;
        const Google__Protobuf__MethodDescriptorProto *declared =
            declared_method(set, path + 1, (size_t)(slash - path - 1), slash + 1);
        if (declared == NULL || !declared->server_streaming)
            continue;
        strcpy(out[n].grpc_path, path);
        out[n].request = method->input;
        out[n].reply = method->output;
        out[n].client_streaming = declared->client_streaming;
        n++;
    }
    google__protobuf__file_descriptor_set__free_unpacked(set, NULL);
    *routes = out;
    *route_count = n;
    return 0;
}

const ws_route *ws_routes_find(const ws_route *routes, size_t route_count,
                               const char *request_path) {
    size_t prefix = strlen(WS_PATH_PREFIX);
    if (strncmp(request_path, WS_PATH_PREFIX, prefix) != 0)
        return NULL;
    const char *path = request_path + prefix;
    size_t len = strcspn(path, "?");
    for (size_t i = 0; i < route_count; i++)
        if (strlen(routes[i].grpc_path) == len && memcmp(routes[i].grpc_path, path, len) == 0)
            return &routes[i];
    return NULL;
}
