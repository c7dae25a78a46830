/**
 * The operator's image as the e2e project runs it: the archive of `make image`
 * (hack/image.sh), unpacked by `oaat-image unpack` into a root filesystem, and the command line
 * that runs a container's command inside that root filesystem as a pod would: in its own mount
 * namespace, chrooted, as the image's user, with the image's working directory and environment.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/control-plane.ts';

/** Environment variable naming the e2e run's temp dir (image, root filesystem, ServiceAccount volumes), which the global teardown removes. */
export const WORK_DIR_ENV = 'OAAT_E2E_WORK_DIR';

/** Environment variable naming the JSON file of the {@link UnpackedImage} under test (set by the global setup). */
export const IMAGE_INFO_ENV = 'OAAT_E2E_IMAGE_INFO';

/** The part of an OCI image config the harness uses. */
export interface ImageConfig {
  User?: string;
  WorkingDir?: string;
  Env?: string[];
  Entrypoint?: string[];
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, unknown>;
}

/** An image archive and the root filesystem it was unpacked into. */
export interface UnpackedImage {
  archive: string;
  rootfs: string;
  /** The image's manifest digest (sha256:...). */
  digest: string;
  config: ImageConfig;
}

/** The value of environment variable `name`; throws naming it when it is unset or empty. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: run the e2e project (make e2e-local, or make e2e against kind), whose global setup or script sets it`);
  return value;
}

function run(what: string, command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${String(result.status)}); its message is above`);
  return result.stdout.trim();
}

/** `hack/image.sh --out archive`: builds this checkout's image; returns its digest. */
export function buildImage(archive: string): string {
  return run(`hack/image.sh --out ${archive}`, path.join(REPO_ROOT, 'hack', 'image.sh'), ['--out', archive]);
}

/** Unpacks `archive` into `rootfs` (created; must not exist) with `oaat-image unpack`, which checks every digest. */
export function unpackImage(archive: string, rootfs: string): UnpackedImage {
  const tool = run('hack/tools.sh image-path', path.join(REPO_ROOT, 'hack', 'tools.sh'), ['image-path']);
  const unpacked = JSON.parse(run(`oaat-image unpack ${archive}`, tool, ['unpack', archive, rootfs])) as { digest: string; config: { config: ImageConfig } };
  return { archive, rootfs, digest: unpacked.digest, config: unpacked.config.config };
}

/** Writes the image's description for the test files (which run in other processes) and names it in the environment. */
export function publishImage(image: UnpackedImage, file: string): void {
  writeFileSync(file, JSON.stringify(image));
  process.env[IMAGE_INFO_ENV] = file;
}

/** The image under test, as the global setup published it. */
export function imageUnderTest(): UnpackedImage {
  return JSON.parse(readFileSync(requiredEnv(IMAGE_INFO_ENV), 'utf8')) as UnpackedImage;
}

/** How a container of the image runs; what a pod spec and the kubelet add to the image. */
export interface ContainerRun {
  /** The container's command (it replaces the image's entrypoint), absolute in the image. */
  command: string[];
  /** The container's environment: added to the image's, and winning over it. */
  env: Record<string, string>;
  /** A directory of the host mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir: string;
  /** The container securityContext's readOnlyRootFilesystem. */
  readOnlyRootFilesystem: boolean;
}

const SERVICE_ACCOUNT_MOUNT = 'var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Run inside the new mount namespace, before chroot (the image has no shell): the mounts a
 * container runtime makes (the root read-only when asked, /proc, /dev, an emptyDir-like tmpfs
 * on /tmp as the chart mounts one, the ServiceAccount volume), then the command chrooted,
 * in the image's working directory, as the image's user and group. No pid namespace and exec
 * all the way: the program's pid is the child's, so signals reach node directly. Mounts end
 * with the namespace when the program exits.
 */
const IN_NAMESPACE = `set -eu
root=$1 sa=$2 ro=$3 uid=$4 gid=$5 wd=$6; shift 6
mount --bind "$root" "$root"
if [ "$ro" = true ]; then mount -o remount,bind,ro "$root"; fi
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o size=16m,mode=1777 tmpfs "$root/tmp"
mount --bind "$sa" "$root/${SERVICE_ACCOUNT_MOUNT}"
mount -o remount,bind,ro "$root/${SERVICE_ACCOUNT_MOUNT}"
exec unshare --root="$root" --wd="$wd" --setgid="$gid" --setuid="$uid" -- "$@"`;

/**
 * The program, arguments and environment that run `container` inside the image's root
 * filesystem (see {@link IN_NAMESPACE}); needs root on the host.
 */
export function containerProcess(image: UnpackedImage, container: ContainerRun): { command: string; args: string[]; env: Record<string, string> } {
  if (process.getuid?.() !== 0) throw new Error('running the image needs root (mount namespace, chroot): run make e2e-local as root');
  const [program] = container.command;
  if (program === undefined || !path.isAbsolute(program)) throw new Error(`the container command must start with an absolute path in the image, not ${String(program)}`);
  // The mount points a container runtime creates.
  for (const dir of ['proc', 'dev', 'tmp', SERVICE_ACCOUNT_MOUNT]) mkdirSync(path.join(image.rootfs, dir), { recursive: true });
  const env: Record<string, string> = {};
  for (const entry of image.config.Env ?? []) {
    const at = entry.indexOf('=');
    env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  const user = image.config.User ?? '';
  const [, uid, gid] = /^(\d+):(\d+)$/.exec(user) ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`the image's user is ${JSON.stringify(user)}, not numeric uid:gid`);
  // As container runtimes do when the image sets no HOME: the user's home in the image's
  // /etc/passwd, else /.
  const passwd = readFileSync(path.join(image.rootfs, 'etc', 'passwd'), 'utf8').split('\n').map((line) => line.split(':'));
  if (!Object.hasOwn(env, 'HOME')) env.HOME = passwd.find((fields) => fields[2] === uid)?.[5] ?? '/';
  Object.assign(env, container.env);
  return {
    command: 'unshare',
    args: [
      '--mount', '--propagation', 'private', '--', 'sh', '-c', IN_NAMESPACE, 'in-namespace',
      image.rootfs, container.serviceAccountDir, String(container.readOnlyRootFilesystem), uid, gid, image.config.WorkingDir ?? '/', ...container.command,
    ],
    env,
  };
}
