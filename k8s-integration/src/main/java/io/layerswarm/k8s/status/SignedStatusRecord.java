package io.layerswarm.k8s.status;

/**
 * A status record with the exact bytes that were signed and the signature over them. The record is
 * parsed from {@code payload}, so what is checked is what was signed.
 *
 * @param record the parsed record
 * @param payload the signed bytes
 * @param signature Ed25519 signature over {@link StatusRecordCodec#DOMAIN} followed by {@code payload}
 */
public record SignedStatusRecord(StatusRecord record, byte[] payload, byte[] signature) {

    /** Copies the arrays. */
    public SignedStatusRecord {
        payload = payload.clone();
        signature = signature.clone();
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }
}
