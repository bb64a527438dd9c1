export { payloadDataConverter } from './data-converter';
export {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  ENCRYPTION_KEY_ID_METADATA,
  PayloadDecryptionError,
} from './encryption-codec';
export { AES_256_KEY_BYTES, KeyRing } from './key-ring';
