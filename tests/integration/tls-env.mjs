// Makes the test process's self-signed certificate and points gRPC's trusted roots at it.
// grpc-js reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH once, when it is first loaded, so every test
// file imports this module before anything that loads grpc-js.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const sourceDir = process.env.TINVESTD_SOURCE_DIR ?? resolve('..', '..');
export const workDir = mkdtempSync(join(tmpdir(), 'tinvestd-test-'));
export const certPath = join(workDir, 'cert.pem');
export const keyPath = join(workDir, 'key.pem');
execFileSync(join(sourceDir, 'scripts', 'make-cert.sh'), [certPath, keyPath], { stdio: 'ignore' });
process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = certPath;
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
