/** The oaat-operator process: `node dist/main.js` (settings from OAAT_* environment variables). */
import { registerOaatControllers } from './controllers/registration.ts';
import { runOperator } from './operator.ts';

process.exit(await runOperator(registerOaatControllers));
