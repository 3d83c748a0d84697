// The documented systemd unit: systemd itself finds nothing to complain about (unknown keys, bad values),
// the hardening options are there, and its ExecStartPre is a command line the CLI accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const UNIT = fs.readFileSync('docs/deploy/mailbeacon.service', 'utf8');

function verify(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-unit-'));
  try {
    fs.writeFileSync(path.join(dir, 'mailbeacon.service'), text);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', 'mailbeacon.service'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.error, undefined, 'systemd-analyze runs (Debian package systemd)');
    // Complaints about the unit itself name its file; missing users/paths of the target machine do not matter here.
    return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('mailbeacon.service')).join('\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('systemd-analyze verify accepts the unit, and would notice a mistake', () => {
  assert.equal(verify(UNIT), '');
  assert.match(verify(UNIT.replace('[Service]\n', '[Service]\nProtectSystem=sometimes\nHardenEverything=yes\n')), /HardenEverything|ProtectSystem/);
});

test('the unit is hardened and runs doctor before serve', () => {
  for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'SystemCallFilter=@system-service', 'RestrictAddressFamilies=', 'StateDirectory=mailbeacon', 'UMask=0077', 'User=mailbeacon']) {
    assert.ok(UNIT.split('\n').some((l) => l.startsWith(line)), `${line} is set`);
  }
  const pre = /^ExecStartPre=\S+ \S+mailbeacon\.js (.+)$/m.exec(UNIT)?.[1];
  assert.equal(pre, 'doctor --only config,store');
  assert.match(UNIT, /^ExecStart=\S+ \S+mailbeacon\.js serve$/m);
});
