import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker lifecycle chatter at INFO drowns the test report; keep warnings and errors.
Runtime.install({ logger: new DefaultLogger('WARN') });
