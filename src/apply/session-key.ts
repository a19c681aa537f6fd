/** Fresh session passphrases (the only randomness in the generated files). */
import { randomBytes } from 'node:crypto';
import { formatSessionKeys } from '../render/session-key.js';

export const newPassphrase = () => randomBytes(32).toString('base64url');

export const newSessionKeyFile = () => formatSessionKeys([newPassphrase()]);
