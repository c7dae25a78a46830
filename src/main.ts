/** The oaat-operator process: `node dist/main.js [--SETTING=VALUE ...]` (or OAAT_* environment variables; `--help`). */
import { checkInstalledCrds } from './controllers/crd-check.ts';
import { registerOaatControllers } from './controllers/registration.ts';
import { resolve, TOKENS } from './container.ts';
import { runOperator } from './operator.ts';

process.exit(
  await runOperator(registerOaatControllers, async (container, logger) => {
    const check = await checkInstalledCrds(resolve(container, TOKENS.Client));
    if (check.ok === 'unknown') logger.warn(check.reason);
    return check.ok === false ? check.problem : undefined;
  }, process.argv.slice(2)),
);
