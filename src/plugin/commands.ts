/**
 * `kubectl oaat`: the commands of the kubectl plugin, run against the cluster of the user's
 * kubeconfig (KUBECONFIG or ~/.kube/config, `--kubeconfig`, `--context`, `--namespace`).
 *
 * Exit codes: 0 done; 1 the cluster refused or could not be reached, or the group is unknown
 * (one line on stderr says which); 2 a bad command line (it names the bad argument). The
 * plugin writes only what a user would write: annotations (`run`, `reset`) and `spec.paused`
 * (`pause`, `resume`); the operator is the only writer of status.
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { parseDuration } from '../api/v1/duration.ts';
import { ANNOTATIONS } from '../api/v1/keys.ts';
import type { OaatGroup } from '../api/v1/types.ts';
import { validateGroupSpec } from '../api/v1/validation.ts';
import { OAATGROUPS } from '../controllers/resources.ts';
import { ApiError } from '../runtime/api-error.ts';
import { KubeClient } from '../runtime/client.ts';
import { PooledClusterAccess } from '../runtime/cluster-access.ts';
import { KubeConfigError, loadKubeContext } from '../runtime/kubeconfig.ts';
import { forecastRuns } from '../services/forecast.ts';
import { groupStatusView, historyTable, historyView, planTable, statusTable } from './views.ts';

/** Where a command writes, and the process's environment and clock; tests give their own. */
export interface PluginIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => number;
}

/** The operator's default retry floor (OAAT_RETRY_FLOOR): the forecast cannot know the operator's setting. */
const RETRY_FLOOR_MS = 60_000;
/** The runtime `plan` assumes for an item without a prediction. */
const DEFAULT_RUNTIME_MS = 5 * 60_000;
const DEFAULT_PLAN_PERIOD = '24h';

const COMMANDS = {
  status: { usage: 'status [GROUP] [-A]', help: 'per group: the running item and for how long, the next item (when, why), failing and overdue items' },
  history: { usage: 'history GROUP', help: "per item: last success and failure, consecutive failures, last outcome, runtime p50/p90" },
  run: { usage: 'run GROUP ITEM', help: 'ask the operator to run ITEM next (annotation oaat.kawaja.net/run-now=ITEM@<now>)' },
  reset: { usage: 'reset GROUP (ITEM | --all)', help: 'clear the failures of ITEM, or of every item (annotation oaat.kawaja.net/reset)' },
  pause: { usage: 'pause GROUP', help: 'no new item starts (spec.paused: true); a running item finishes' },
  resume: { usage: 'resume GROUP', help: 'new items start again (spec.paused: false)' },
  plan: { usage: `plan GROUP [--for ${DEFAULT_PLAN_PERIOD}]`, help: 'forecast the order and approximate start times of the next runs' },
} as const;

type Command = keyof typeof COMMANDS;

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  all: { type: 'boolean' },
  for: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** A bad command line: exit 2. */
class UsageError extends Error {}

/** What a command needs besides its arguments. */
interface Context {
  client: KubeClient;
  namespace: string;
  output: 'table' | 'json' | 'yaml';
  io: PluginIo;
}

/** Runs `kubectl oaat <args>`; resolves with the exit code. */
export async function runPlugin(args: readonly string[], version: string, io: PluginIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], strict: true, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    return usageFailure(io, (error as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...operands] = positionals;
  if (values.version === true) {
    io.stdout(`kubectl-oaat ${version}\n`);
    return 0;
  }
  if (name === undefined) {
    (values.help === true ? io.stdout : io.stderr)(usage(version));
    return values.help === true ? 0 : 2;
  }
  if (!(name in COMMANDS)) return usageFailure(io, `unknown command ${JSON.stringify(name)}`);
  const command = name as Command;
  if (values.help === true) {
    io.stdout(commandUsage(command));
    return 0;
  }
  let access: PooledClusterAccess | undefined;
  let server = '';
  /** The namespace the requests went to; undefined before it is known, or with --all-namespaces. */
  let namespace: string | undefined;
  try {
    const output = values.output ?? 'table';
    if (output !== 'table' && output !== 'json' && output !== 'yaml') throw new UsageError(`--output must be json or yaml, got ${JSON.stringify(output)}`);
    checkArguments(command, operands, values);
    const env = values.kubeconfig === undefined ? io.env : { ...io.env, KUBECONFIG: values.kubeconfig };
    const kube = await loadKubeContext({ env, context: values.context });
    server = kube.source.server;
    access = new PooledClusterAccess(kube.source, { requestConnections: 1 });
    namespace = values.namespace ?? kube.namespace ?? 'default';
    const context: Context = {
      client: new KubeClient({ access, fieldManager: 'kubectl-oaat', userAgent: `kubectl-oaat/${version}`, maxRetriesOn429: 2 }),
      namespace,
      output,
      io,
    };
    await COMMAND_RUNNERS[command](context, operands, values);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, error.message, command);
    io.stderr(`error: ${describeFailure(error, command, values['all-namespaces'] === true ? undefined : namespace, server)}\n`);
    return 1;
  } finally {
    access?.close();
  }
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** Refuses operands and flags the command does not take. */
function checkArguments(command: Command, operands: readonly string[], values: Values): void {
  const needed = command === 'reset' && values.all === true ? 1 : { status: 0, history: 1, run: 2, reset: 2, pause: 1, resume: 1, plan: 1 }[command];
  const [min, max] = [needed, command === 'status' ? 1 : needed];
  if (operands.length < min) throw new UsageError(`usage: kubectl oaat ${COMMANDS[command].usage}`);
  if (operands.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(operands[max])}`);
  if (values.all === true && command !== 'reset') throw new UsageError(`--all is for reset only`);
  if (values.for !== undefined && command !== 'plan') throw new UsageError(`--for is for plan only`);
  if (values['all-namespaces'] === true && command !== 'status') throw new UsageError(`--all-namespaces is for status only`);
  if (values['all-namespaces'] === true && operands.length > 0) throw new UsageError(`--all-namespaces lists every group: give no GROUP`);
}

const COMMAND_RUNNERS: Record<Command, (context: Context, operands: readonly string[], values: Values) => Promise<void>> = {
  async status(context, [group], values) {
    const groups =
      group !== undefined
        ? [await getGroup(context, group)]
        : (await context.client.list<OaatGroup>(OAATGROUPS, values['all-namespaces'] === true ? {} : { namespace: context.namespace })).items;
    const now = context.io.now();
    const views = groups.map((item) => groupStatusView(item, now));
    if (context.output !== 'table') {
      print(context, views);
      return;
    }
    if (views.length === 0) {
      context.io.stdout(values['all-namespaces'] === true ? 'No OaatGroups found.\n' : `No OaatGroups found in namespace ${context.namespace}.\n`);
      return;
    }
    context.io.stdout(statusTable(views, now, values['all-namespaces'] === true));
  },
  async history(context, [group]) {
    const items = historyView(await getGroup(context, group ?? ''));
    if (context.output !== 'table') {
      print(context, { group, namespace: context.namespace, items });
      return;
    }
    context.io.stdout(historyTable(items, context.io.now()));
  },
  async run(context, [group, item]) {
    await annotate(context, group ?? '', ANNOTATIONS.runNow, item ?? '');
  },
  async reset(context, [group, item], values) {
    await annotate(context, group ?? '', ANNOTATIONS.reset, values.all === true ? '*' : (item ?? ''));
  },
  async pause(context, [group]) {
    await setPaused(context, group ?? '', true);
  },
  async resume(context, [group]) {
    await setPaused(context, group ?? '', false);
  },
  async plan(context, [group], values) {
    const period = values.for ?? DEFAULT_PLAN_PERIOD;
    let horizonMs: number;
    try {
      horizonMs = parseDuration(period);
    } catch (error) {
      throw new UsageError(`--for ${(error as Error).message}`);
    }
    const found = await getGroup(context, group ?? '');
    const report = validateGroupSpec(found.spec ?? {});
    const problem = report.errors[0];
    if (problem !== undefined) throw new Error(`the spec of ${group ?? ''} is invalid, so the operator runs nothing: ${problem.path} ${problem.message}`);
    const now = context.io.now();
    const forecast = forecastRuns({ spec: { ...found.spec, oaatItems: report.items }, status: found.status, now, horizonMs, retryFloorMs: RETRY_FLOOR_MS, defaultRuntimeMs: DEFAULT_RUNTIME_MS });
    if (context.output !== 'table') {
      const runs = forecast.runs.map((run) => ({ ...run, startAt: new Date(run.startAt).toISOString(), endAt: new Date(run.endAt).toISOString() }));
      print(context, { group, namespace: context.namespace, from: new Date(now).toISOString(), until: new Date(now + horizonMs).toISOString(), runs, end: forecast.end });
      return;
    }
    context.io.stdout(planTable(forecast, now, DEFAULT_RUNTIME_MS));
  },
};

function getGroup(context: Context, name: string): Promise<OaatGroup> {
  return context.client.get<OaatGroup>(OAATGROUPS, context.namespace, name);
}

/** Writes `<item>@<now>` into the annotation by a merge patch, after checking the group exists (a patch of a missing group is a 404 too, but says less). */
async function annotate(context: Context, group: string, annotation: string, item: string): Promise<void> {
  await getGroup(context, group);
  const value = `${item}@${new Date(context.io.now()).toISOString()}`;
  await context.client.patch(OAATGROUPS, context.namespace, group, { metadata: { annotations: { [annotation]: value } } });
  report(context, { group, namespace: context.namespace, annotation, value }, `oaatgroup/${group} annotated ${annotation}=${value}\n`);
}

async function setPaused(context: Context, group: string, paused: boolean): Promise<void> {
  await getGroup(context, group);
  await context.client.patch(OAATGROUPS, context.namespace, group, { spec: { paused } });
  report(context, { group, namespace: context.namespace, paused }, `oaatgroup/${group} ${paused ? 'paused' : 'resumed'}\n`);
}

function report(context: Context, data: unknown, line: string): void {
  if (context.output === 'table') context.io.stdout(line);
  else print(context, data);
}

function print(context: Context, data: unknown): void {
  context.io.stdout(context.output === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data));
}

/** The verb and resource of a command's requests, for a 403. */
const VERBS: Record<Command, string> = { status: 'get/list', history: 'get', run: 'patch', reset: 'patch', pause: 'patch', resume: 'patch', plan: 'get' };

/** One line saying why a command failed. */
function describeFailure(error: unknown, command: Command, namespace: string | undefined, server: string): string {
  if (error instanceof KubeConfigError) return `kubeconfig: ${error.message}`;
  if (!(error instanceof ApiError)) return (error as Error).message;
  const where = error.message;
  switch (error.status) {
    case 0:
      return `cannot reach the cluster at ${server}: ${where}`;
    case 401:
      return `the cluster does not accept the kubeconfig's credentials (401 Unauthorized): ${where}`;
    case 403:
      return `no permission to ${VERBS[command]} oaatgroups.kawaja.net${namespace === undefined ? '' : ` in namespace ${namespace}`} (403 Forbidden): ${where}`;
    case 404:
      return `not found (404): ${where}`;
    default:
      return where;
  }
}

function usageFailure(io: PluginIo, message: string, command?: Command): number {
  io.stderr(`kubectl-oaat: ${message}\nSee kubectl oaat ${command === undefined ? '' : `${command} `}--help.\n`);
  return 2;
}

const GLOBAL_FLAGS = [
  '  -n, --namespace NS      the group\'s namespace (default: the context\'s, else default)',
  '  -o, --output FORMAT     json or yaml instead of a table',
  '      --context NAME      the kubeconfig context to use',
  '      --kubeconfig FILE   the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)',
  '  -h, --help              this text',
];

function usage(version: string): string {
  const width = Math.max(...Object.values(COMMANDS).map((command) => command.usage.length));
  return [
    `kubectl oaat ${version}: inspect and steer OaatGroups (oaat-operator). Needs Node >= 22.19.`,
    '',
    'Usage: kubectl oaat COMMAND [flags]',
    '',
    ...Object.values(COMMANDS).map((command) => `  ${command.usage.padEnd(width)}  ${command.help}`),
    '',
    ...GLOBAL_FLAGS,
    '  -A, --all-namespaces    status: the groups of every namespace',
    '      --version           the version',
    '',
  ].join('\n');
}

function commandUsage(command: Command): string {
  return [`Usage: kubectl oaat ${COMMANDS[command].usage} [flags]`, '', `${COMMANDS[command].help[0]?.toUpperCase() ?? ''}${COMMANDS[command].help.slice(1)}.`, '', ...GLOBAL_FLAGS, ''].join('\n');
}
