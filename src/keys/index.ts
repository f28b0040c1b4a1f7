export {
  adoptUnauditedKeys,
  assignHolder,
  createKey,
  KeyVerifier,
  listKeys,
  revokeKey,
  ROLES,
  type ApiKey,
  type KeyListing,
  type Role,
} from './keys.ts';
export { checkPersonName, personHandle, samePerson } from '../people/index.ts';
