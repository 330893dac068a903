/**
 * Secrets, one module that imports nothing else from src/: which values are credentials
 * (rules.ts), how to find them in a check's options (collect.ts), every form they take
 * (forms.ts), and redaction (redact.ts).
 */
export { collectSecrets, kindsOf, type Collected, type CollectOptions } from './collect.js';
export { pairBlobs, secretForms } from './forms.js';
export { MASK, Redactor } from './redact.js';
export {
  declareSecret,
  isCredentialHeaderName,
  isCredentialOptionName,
  isCredentialParamName,
  MIN_MASK_LENGTH,
  type SecretKind,
} from './rules.js';
export { safeUrl } from './url.js';
