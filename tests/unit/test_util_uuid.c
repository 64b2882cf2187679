#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "util/uuid.h"

/* The form character by character, as a reference for uuid_is_valid's eight at a time. */
static bool reference_valid(const char *text) {
    for (size_t i = 0; i < UUID_TEXT_LEN; i++) {
        char c = text[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (i == 8 || i == 13 || i == 18 || i == 23 ? c != '-' : !hex)
            return false;
    }
    return true;
}

/* Every byte value in every position of a valid UUID: uuid_is_valid agrees with the reference,
 * and exactly the hex digits (outside the dashes' places) keep it valid. */
static void test_every_byte_in_every_place(void) {
    const char base[] = "e6123145-9665-43e0-8413-cd61b8aa9b13";
    unsigned disagreements = 0, valid = 0;
    for (size_t place = 0; place < UUID_TEXT_LEN; place++)
        for (unsigned byte = 0; byte < 256; byte++) {
            char text[UUID_TEXT_SIZE];
            memcpy(text, base, sizeof text);
            text[place] = (char)byte;
            bool ok = uuid_is_valid(text, UUID_TEXT_LEN);
            disagreements += ok != reference_valid(text);
            valid += ok;
        }
    CHECK(disagreements == 0);
    CHECK(valid == 32 * 22 + 4); /* 22 hex digits in each of 32 places, the dash in 4 */
}

int main(void) {
    test_every_byte_in_every_place();
    CHECK(uuid_is_valid("e6123145-9665-43e0-8413-cd61b8aa9b13", 36));
    CHECK(uuid_is_valid("E6123145-9665-43E0-8413-CD61B8AA9B13", 36));
    /* Any version is a UUID for T-Invest: a version-1 and a nil-shaped one. */
    CHECK(uuid_is_valid("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 36));
    CHECK(uuid_is_valid("00000000-0000-0000-0000-000000000000", 36));
    CHECK(!uuid_is_valid("e6123145-9665-43e0-8413-cd61b8aa9b1", 35));
    CHECK(!uuid_is_valid("e6123145-9665-43e0-8413-cd61b8aa9b13x", 37));
    CHECK(!uuid_is_valid("e6123145_9665-43e0-8413-cd61b8aa9b13", 36));
    CHECK(!uuid_is_valid("g6123145-9665-43e0-8413-cd61b8aa9b13", 36));
    CHECK(!uuid_is_valid("my-order-1", 10));
    CHECK(!uuid_is_valid(NULL, 0));

    char a[UUID_TEXT_SIZE], b[UUID_TEXT_SIZE];
    uuid_generate_v4(a);
    uuid_generate_v4(b);
    CHECK(uuid_is_valid(a, strlen(a)));
    CHECK(a[14] == '4');
    CHECK(strchr("89ab", a[19]) != NULL);
    CHECK(strcmp(a, b) != 0);

    char fixed[UUID_TEXT_SIZE];
    uuid_format_from_bits(0, 0, fixed);
    CHECK(strcmp(fixed, "00000000-0000-4000-8000-000000000000") == 0);
    return check_finish("uuid");
}
