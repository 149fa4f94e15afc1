import { type CryptoKey, type JWK, importJWK } from 'jose';
import type { FieldProblem } from '../errors.js';

/** Packages are encrypted with ECDH-ES key agreement and AES-256-GCM (RFC 7518 §4.6, §5.3). */
export const PACKAGE_KEY_ALG = 'ECDH-ES';
export const PACKAGE_ENC = 'A256GCM';

const CURVES: Record<string, readonly string[]> = { EC: ['P-256', 'P-384', 'P-521'], OKP: ['X25519'] };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'priv'];

/**
 * Checks that a JWK an authority registers can receive an encrypted package: a public
 * key-agreement key (EC P-256/384/521 or X25519), meant for encryption. A signing key, an
 * RSA key, a symmetric key or one carrying private members is refused with the reason,
 * so nobody learns at disclosure time that the package cannot be made.
 */
export async function checkEncryptionJwk(jwk: unknown): Promise<FieldProblem[]> {
  const problem = (message: string, code = 'invalid_jwk'): FieldProblem[] => [{ path: '/publicJwk', code, message }];
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return problem('must be a JSON Web Key object');
  const k = jwk as Record<string, unknown>;
  const curves = typeof k.kty === 'string' ? CURVES[k.kty] : undefined;
  if (!curves) return problem('must be an EC (P-256, P-384, P-521) or OKP (X25519) key for ECDH-ES');
  if (typeof k.crv !== 'string' || !curves.includes(k.crv)) {
    return problem(`curve ${String(k.crv)} cannot be used for key agreement (use ${curves.join(', ')})`);
  }
  const secret = PRIVATE_MEMBERS.find((m) => m in k);
  if (secret) return problem(`holds the private member "${secret}": register the public key only`, 'private_key');
  if (k.use !== undefined && k.use !== 'enc')
    return problem(`"use" is "${String(k.use)}", not "enc"`, 'not_encryption_key');
  if (k.alg !== undefined && !(typeof k.alg === 'string' && k.alg.startsWith(PACKAGE_KEY_ALG))) {
    return problem(
      `"alg" is "${String(k.alg)}", not a key-agreement algorithm (${PACKAGE_KEY_ALG})`,
      'not_encryption_key',
    );
  }
  if (k.key_ops !== undefined) {
    const ops = Array.isArray(k.key_ops) ? k.key_ops : [];
    if (!ops.includes('deriveBits') && !ops.includes('deriveKey')) {
      return problem('"key_ops" does not allow key agreement (deriveKey or deriveBits)', 'not_encryption_key');
    }
  }
  try {
    await importAuthorityKey(k as JWK);
  } catch (error) {
    return problem(`is not a valid public key (${(error as Error).message})`);
  }
  return [];
}

/** Imports a registered authority's key for encrypting its packages. */
export async function importAuthorityKey(jwk: JWK): Promise<CryptoKey> {
  // The key is used for ECDH-ES + A256GCM whatever ECDH-ES variant it names.
  const { key_ops: _ops, use: _use, alg: _alg, ...bare } = jwk;
  return (await importJWK({ ...bare, ext: true }, PACKAGE_KEY_ALG)) as CryptoKey;
}
