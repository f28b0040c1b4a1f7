export {
  adoptUnauditedKeys,
  assignHolder,
  createKey,
  expiryIn,
  KeyVerifier,
  listKeys,
  MAX_KEY_DAYS,
  MAX_OVERLAP_DAYS,
  revokeKey,
  ROLES,
  rotateKey,
  type ApiKey,
  type KeyListing,
  type Role,
} from './keys.ts';
export { checkPersonName, personHandle, samePerson } from '../people/index.ts';
