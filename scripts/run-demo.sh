#!/usr/bin/env bash
# Starts tinvestd with the demo configuration and prints how to connect.
# usage: scripts/run-demo.sh BINARY RUN_DIR PLAINTEXT_ADDR TLS_ADDR SANDBOX_ADDR SANDBOX_TLS_ADDR HTTP_ADDR
set -euo pipefail
binary=$1
run_dir=$2
listen=$3
tls_listen=$4
sandbox_listen=$5
sandbox_tls_listen=$6
http_listen=$7
mkdir -p "$run_dir/data"
scripts/make-cert.sh "$run_dir/tls/cert.pem" "$run_dir/tls/key.pem"
cert_path=$(cd "$run_dir/tls" && pwd)/cert.pem
plain_port=${listen##*:}
tls_port=${tls_listen##*:}
sandbox_port=${sandbox_listen##*:}
sandbox_tls_port=${sandbox_tls_listen##*:}
http_port=${http_listen##*:}
tinvestctl=$(dirname "$binary")/tinvestctl

# The operator's token (AdminService, tinvestctl): a new random one each run, readable by this
# user only, in a configuration of the run's own (the demo's, with its reference data by absolute
# path). The listeners are on 127.0.0.1 only (docs/SECURITY.md, "The operator's token").
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run_dir/admin-token"
python3 - "$run_dir/admin-token" "$run_dir/demo.json" <<'PY'
import json, os, sys
token = open(sys.argv[1]).read().strip()
config = json.load(open("config/demo.json"))
config["reference_dir"] = os.path.abspath(os.path.join("config", config["reference_dir"]))
config["admin"] = {"token": token}
with open(sys.argv[2], "w") as f:
    json.dump(config, f, indent=2)
PY
umask 022

cat <<MSG

tinvestd demo — a T-Invest API broker with an embedded exchange
  plaintext gRPC : localhost:$plain_port   (127.0.0.1)
  TLS gRPC       : localhost:$tls_port   (self-signed; trust $cert_path)
  sandbox        : localhost:$sandbox_port (plaintext), localhost:$sandbox_tls_port (TLS, same certificate):
                   the same services on the tokens' sandbox accounts
  REST (HTTP)    : http://localhost:$http_port/rest/tinkoff.public.invest.api.contract.v1.<Service>/<Method>
  metrics        : http://localhost:$http_port/metrics   (Prometheus text, no token)
  operator       : TINVESTD_ADMIN_TOKEN=\$(cat $run_dir/admin-token) $tinvestctl --target 127.0.0.1:$plain_port stats
                   (halt ID, resume ID, faults, price ID PRICE, snapshot; or POST
                   http://localhost:$http_port/admin/<Method> with that token: docs/PROTOCOL.md)
  dashboard      : http://localhost:$http_port/   (enter a token below; for the operator's
                   controls, the token in $run_dir/admin-token)
  tokens         : t.demo.full (both accounts), t.demo.one (first account only),
                   t.demo.readonly (read-only on both)
  accounts       : 2000000001, 2000000002, and the sandbox account
                   c3a4e2f1-7b6d-4e5a-9c8b-1d2e3f4a5b6c   (instruments: see data/reference/instruments.json)

Python (official SDK, TLS):
  GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=$cert_path python3 -c '
from tinkoff.invest import Client
with Client("t.demo.full", target="localhost:$tls_port") as c:
    print(c.users.get_accounts())'

Python, the sandbox (SandboxClient is Client with the sandbox address as its target):
  GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=$cert_path python3 -c '
from tinkoff.invest import Client
with Client("t.demo.full", target="localhost:$sandbox_tls_port") as c:
    print(c.users.get_accounts())'

Node (npm tinkoff-invest-api, plaintext):
  node -e 'import("tinkoff-invest-api").then(async ({TinkoffInvestApi}) => {
    const api = new TinkoffInvestApi({ token: "t.demo.full", endpoint: "localhost:$plain_port" });
    console.log(await api.users.getAccounts({})); })'

REST (JSON over HTTP, as the real REST proxy):
  curl -s -X POST -H 'Authorization: Bearer t.demo.full' -d '{}' \\
    http://localhost:$http_port/rest/tinkoff.public.invest.api.contract.v1.UsersService/GetAccounts

Stop with Ctrl-C.
MSG
exec "$binary" --config "$run_dir/demo.json" --data-dir "$run_dir/data" \
    --listen "$listen" --tls-listen "$tls_listen" \
    --sandbox-listen "$sandbox_listen" --sandbox-tls-listen "$sandbox_tls_listen" \
    --http-listen "$http_listen" \
    --tls-cert "$run_dir/tls/cert.pem" --tls-key "$run_dir/tls/key.pem"
