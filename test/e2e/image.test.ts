/**
 * What the image under test holds (distroless: no shell, no package manager, root-owned files,
 * a non-root user, production dependencies only, the pinned Node), how it names itself, and that
 * a second build of this checkout gives the same bytes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/control-plane.ts';
import { buildImage, imageUnderTest, unpackImage, type UnpackedImage } from './image.ts';

const packageJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
const NONROOT = 65532;

let work: string;
let image: UnpackedImage;

beforeAll(() => {
  // A root filesystem of its own: the one the operators run from gains mount points.
  work = mkdtempSync(path.join(os.tmpdir(), 'oaat-e2e-image-'));
  image = unpackImage(imageUnderTest().archive, path.join(work, 'rootfs'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Every path in the root filesystem (relative, with a leading /), depth first. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = `${prefix}/${entry.name}`;
    return entry.isDirectory() ? [relative, ...walk(path.join(dir, entry.name), relative)] : [relative];
  });
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

test('no shell, no package manager, nothing but the libraries, Node, the app and its licences', () => {
  const paths = walk(image.rootfs);
  const programs = paths.filter((p) => /^(sh|bash|dash|busybox|apt|apt-get|dpkg|npm|npx|ldconfig)$/.test(path.basename(p)) && !lstatSync(path.join(image.rootfs, p)).isDirectory());
  expect(programs).toEqual([]);
  expect(existsSync(path.join(image.rootfs, 'bin'))).toBe(false);
  const tops = readdirSync(image.rootfs).sort();
  expect(tops).toEqual(['app', 'etc', 'home', 'lib', 'lib64', 'nodejs', 'tmp', 'usr', 'var']);
  // Scanners (trivy, grype) find the Debian packages and their licences.
  for (const pkg of ['libc6', 'libgcc-s1', 'libstdc++6', 'gcc-12-base']) {
    expect(readFileSync(path.join(image.rootfs, 'var/lib/dpkg/status.d', pkg), 'utf8')).toMatch(new RegExp(`^Package: ${pkg.replace(/\+/g, '\\+')}\n`));
    expect(existsSync(path.join(image.rootfs, 'usr/share/doc', pkg, 'copyright'))).toBe(true);
  }
});

test('everything is owned by root with normalized modes, but /tmp and the home of the non-root user', () => {
  const odd = walk(image.rootfs).flatMap((p) => {
    const stat = lstatSync(path.join(image.rootfs, p));
    const mode = stat.mode & 0o7777;
    let expected: { uid: number; modes: number[] };
    if (p === '/tmp') expected = { uid: 0, modes: [0o1777] };
    else if (p === '/home/nonroot') expected = { uid: NONROOT, modes: [0o700] };
    else if (stat.isDirectory()) expected = { uid: 0, modes: [0o755] };
    else if (stat.isSymbolicLink()) expected = { uid: 0, modes: [0o777] };
    else expected = { uid: 0, modes: [0o644, 0o755] };
    const ok = stat.uid === expected.uid && stat.gid === expected.uid && expected.modes.includes(mode);
    return ok ? [] : [`${p} ${String(stat.uid)}:${String(stat.gid)} ${mode.toString(8)}`];
  });
  expect(odd).toEqual([]);
  expect(readFileSync(path.join(image.rootfs, 'etc/passwd'), 'utf8')).toContain(`nonroot:x:${String(NONROOT)}:${String(NONROOT)}:`);
});

test('the config: non-root numeric user, the operator as entrypoint, OCI labels', () => {
  expect(image.config.User).toBe(`${String(NONROOT)}:${String(NONROOT)}`);
  expect(image.config.WorkingDir).toBe('/app');
  expect(image.config.Entrypoint).toEqual(['/nodejs/bin/node', '/app/dist/main.js']);
  expect(image.config.Env).toContain('NODE_ENV=production');
  expect(Object.keys(image.config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
  expect(image.config.Labels).toMatchObject({
    'org.opencontainers.image.title': 'oaat-operator',
    'org.opencontainers.image.version': packageJson.version,
    'org.opencontainers.image.revision': execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(),
    'org.opencontainers.image.licenses': 'MIT',
  });
});

test('production dependencies only, and dist/ without the archive', () => {
  const modules = path.join(image.rootfs, 'app/node_modules');
  for (const dev of ['typescript', 'jest', 'eslint', '@swc/core', 'node', '@types/jest']) expect(existsSync(path.join(modules, dev))).toBe(false);
  expect(existsSync(path.join(modules, '@kubernetes/client-node'))).toBe(true);
  expect(walk(path.join(image.rootfs, 'app/dist')).filter((p) => !p.endsWith('.js') && !lstatSync(path.join(image.rootfs, 'app/dist', p)).isDirectory())).toEqual([]);
});

test('its node is the pinned devDependency, and runs as the non-root user', () => {
  const result = spawnSync('unshare', ['--root', image.rootfs, '--setgid', String(NONROOT), '--setuid', String(NONROOT), '--', '/nodejs/bin/node', '-p', 'process.version + " " + process.getuid()'], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe(`v${packageJson.devDependencies.node ?? ''} ${String(NONROOT)}`);
});

test('the archive names the image for docker load and for OCI tools', () => {
  const read = (member: string): unknown => JSON.parse(execFileSync('tar', ['-xOf', image.archive, member], { encoding: 'utf8' }));
  expect(read('manifest.json')).toMatchObject([{ RepoTags: [`oaat-operator:${packageJson.version}`] }]);
  expect(read('index.json')).toMatchObject({
    manifests: [{ digest: image.digest, annotations: { 'org.opencontainers.image.ref.name': packageJson.version, 'io.containerd.image.name': `docker.io/library/oaat-operator:${packageJson.version}` } }],
  });
});

test('a second build of this checkout gives the same archive, byte for byte', () => {
  const second = path.join(work, 'second.oci.tar');
  expect(buildImage(second)).toBe(image.digest);
  expect(sha256(second)).toBe(sha256(image.archive));
}, 600_000);
