/** The service-check kit (see service.ts and errors.ts): what every TCP-based check is built on. */
export { eachAddress, readTls, serviceCheck, timeLeft, withEachAddress, withService, type RelaySpec, type Service, type ServiceSpec } from './service.js';
export { now } from '../../core/clock.js';
export { MessageReader, readUntil, type Complete } from './read.js';
export { errorTable, messageOf, type Classifier, type DriverError, type ErrorRule } from './errors.js';
