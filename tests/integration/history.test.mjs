// `tinvestd history import`: ZIP archives built with the zip command in the layout of T-Invest's
// yearly history archives (one CSV a day, <uid>_<YYYYMMDD>.csv), imported into a data directory
// and read back here with an independent reader of the store's format (docs/HISTORY.md): the
// header, the records and both CRC32Cs. A second import of the same archive changes no byte; an
// archive with a bad row, a damaged archive and an unknown instrument leave the store as it was,
// each error naming the archive, the member and the line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { binary, demoConfig, demoConfigPath, demoInstruments, sourceDir } from './harness.mjs';

const work = mkdtempSync(join(tmpdir(), 'tinvestd-history-'));
after(() => rmSync(work, { recursive: true, force: true }));
const sber = demoInstruments.find((i) => i.ticker === 'SBER').uid;
const dataDir = join(work, 'data');
const storePath = join(dataDir, 'history', `${sber}.tcs`);

function crc32c(bytes) {
    let crc = 0xffffffff;
    for (const b of bytes) {
        crc ^= b;
        for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
    }
    return (crc ^ 0xffffffff) >>> 0;
}

// The store file as docs/HISTORY.md describes it.
function readStore(path) {
    const buf = readFileSync(path);
    assert.equal(buf.subarray(0, 8).toString('latin1'), 'TIHIST\r\n');
    assert.equal(buf.readUInt32LE(8), 1);
    assert.equal(buf.readUInt32LE(12), 48);
    assert.equal(crc32c(buf.subarray(0, 124)), buf.readUInt32LE(124));
    const count = Number(buf.readBigUInt64LE(64));
    assert.equal(buf.length, 128 + count * 48);
    assert.equal(crc32c(buf.subarray(128)), buf.readUInt32LE(88));
    const candles = [];
    for (let i = 0; i < count; i++) {
        const at = 128 + i * 48;
        const v = (k) => buf.readBigInt64LE(at + 8 * k);
        candles.push({ t: Number(v(0)), open: v(1), high: v(2), low: v(3), close: v(4), volume: v(5) });
    }
    return {
        uid: buf.subarray(16, 52).toString('latin1'),
        first: Number(buf.readBigInt64LE(72)),
        last: Number(buf.readBigInt64LE(80)),
        candles,
        bytes: buf,
    };
}

// A day's rows: `minutes` candles from 07:00 UTC, the last field followed by ';' as in the archives.
function dayRows(uid, day, minutes, base) {
    const rows = [];
    for (const m of minutes) {
        const hh = String(7 + Math.floor(m / 60)).padStart(2, '0');
        const mm = String(m % 60).padStart(2, '0');
        const p = base + m / 100;
        rows.push(`${uid};${day}T${hh}:${mm}:00Z;${p};${(p + 0.02).toFixed(2)};${(p + 0.05).toFixed(2)};${(p - 0.01).toFixed(2)};${m * 10};`);
    }
    return rows.join('\n') + '\n';
}

// A ZIP of daily CSV files named <uid>_<YYYYMMDD>.csv, made by the zip command.
function archive(name, days) {
    const dir = join(work, `src-${name}`);
    mkdirSync(dir, { recursive: true });
    const members = [];
    for (const [day, text] of days) {
        const member = `${sber}_${day.replaceAll('-', '')}.csv`;
        writeFileSync(join(dir, member), text);
        members.push(member);
    }
    const path = join(work, name);
    execFileSync('zip', ['-q', '-X', path, ...members], { cwd: dir });
    return path;
}

function importFiles(...files) {
    const r = spawnSync(binary, ['history', 'import', '--data-dir', dataDir, '--config', demoConfigPath, ...files], {
        encoding: 'utf8',
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const minutes = [0, 1, 2, 5, 6, 7];
const zip2024 = archive(`${sber}_2024.zip`, [
    ['2024-01-04', dayRows(sber, '2024-01-04', minutes, 270)],
    ['2024-01-03', dayRows(sber, '2024-01-03', minutes, 260)],
]);

test('an archive imports into a sorted store whose header and CRCs check', () => {
    const r = importFiles(zip2024);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${sber}: 12 distinct minutes read, 12 new, 0 already stored`));
    assert.match(r.stdout, /2 gaps \(4 missing minutes inside days\)/);
    const store = readStore(storePath);
    assert.equal(store.uid, sber);
    assert.equal(store.candles.length, 12);
    assert.equal(store.first, Date.UTC(2024, 0, 3, 7, 0) / 1000);
    assert.equal(store.last, Date.UTC(2024, 0, 4, 7, 7) / 1000);
    for (let i = 1; i < store.candles.length; i++) assert.ok(store.candles[i - 1].t < store.candles[i].t);
    // 260 + 1/100 = 260.01 → nano-units, parsed exactly.
    const second = store.candles[1];
    assert.equal(second.open, 260_010_000_000n);
    assert.equal(second.high, 260_060_000_000n);
    assert.equal(second.low, 260_000_000_000n);
    assert.equal(second.close, 260_030_000_000n);
    assert.equal(second.volume, 10n);
});

test('importing the same archive again changes nothing', () => {
    const before = readFileSync(storePath);
    const r = importFiles(zip2024);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /12 distinct minutes read, 0 new, 12 already stored/);
    assert.deepEqual(readFileSync(storePath), before);
});

test('another year merges in order', () => {
    const zip2023 = archive(`${sber}_2023.zip`, [['2023-12-29', dayRows(sber, '2023-12-29', [0, 1], 250)]]);
    const r = importFiles(zip2023);
    assert.equal(r.status, 0, r.stderr);
    const store = readStore(storePath);
    assert.equal(store.candles.length, 14);
    assert.equal(store.first, Date.UTC(2023, 11, 29, 7, 0) / 1000);
    assert.equal(store.last, Date.UTC(2024, 0, 4, 7, 7) / 1000);
});

test('a bad row, a damaged archive or an unknown instrument leaves the store as it was', () => {
    const before = readFileSync(storePath);
    const good = dayRows(sber, '2024-02-01', [0, 1], 280);
    const bad = dayRows(sber, '2024-02-02', [0, 1, 2], 280).replace(/;(\d+);\n$/, ';-5;\n');
    const badZip = archive('bad_2024.zip', [['2024-02-01', good], ['2024-02-02', bad]]);
    let r = importFiles(badZip);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`bad_2024\\.zip:${sber}_20240202\\.csv:3: the volume is negative`));
    assert.match(r.stderr, /the store is unchanged/);
    assert.deepEqual(readFileSync(storePath), before);

    const truncated = join(work, 'truncated.zip');
    writeFileSync(truncated, readFileSync(zip2024).subarray(0, 200));
    r = importFiles(truncated);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /truncated\.zip: not a readable ZIP archive/);

    const stranger = join(work, 'stranger.csv');
    writeFileSync(stranger, `${sber};2024-03-01T07:00:00Z;1;1;1;1;1;\n00000000-1111-2222-3333-444444444444;2024-03-01T07:00:00Z;1;1;1;1;1;\n`);
    r = importFiles(stranger);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /stranger\.csv:2: instrument 00000000-1111-2222-3333-444444444444 is not an instrument of the configuration/);

    const conflict = join(work, 'conflict.csv');
    writeFileSync(conflict, `${sber};2024-01-03T07:00:00Z;1;1;1;1;1;\n`);
    r = importFiles(conflict);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /conflict\.csv:1: the store holds this minute/);

    assert.deepEqual(readFileSync(storePath), before);
    assert.deepEqual(readdirSync(join(dataDir, 'history')).filter((f) => f.endsWith('.tmp')), []);
});

test('the synthetic demo history is reproducible and imports whole', () => {
    const script = join(sourceDir, 'scripts', 'make-demo-history.py');
    const outA = join(work, 'demo-a');
    const outB = join(work, 'demo-b');
    execFileSync('python3', [script, '--out', outA, '--seed', '7', '--days', '2', '--config', demoConfigPath]);
    execFileSync('python3', [script, '--out', outB, '--seed', '7', '--days', '2', '--config', demoConfigPath]);
    const files = readdirSync(outA).sort();
    // An archive for each demo instrument with a uid of its own (the script names rows by uid).
    const withUid = demoInstruments.filter((i) => i.uid);
    assert.ok(files.length >= withUid.length - 1, files.join(' '));
    for (const f of files) assert.deepEqual(readFileSync(join(outA, f)), readFileSync(join(outB, f)));
    const demoData = join(work, 'demo-data');
    const r = spawnSync(binary, ['history', 'import', '--data-dir', demoData, '--config', demoConfigPath,
        ...files.map((f) => join(outA, f))], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const stored = readdirSync(join(demoData, 'history'));
    assert.equal(stored.length, files.length);
    for (const f of stored) assert.ok(readStore(join(demoData, 'history', f)).candles.length > 0);
});

test('the command line is checked', () => {
    const r = spawnSync(binary, ['history', 'import', '--config', demoConfigPath, zip2024], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs --data-dir/);
    assert.ok(!existsSync(join(work, 'history')));
});
