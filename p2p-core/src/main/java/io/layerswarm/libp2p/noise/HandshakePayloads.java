package io.layerswarm.libp2p.noise;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.crypto.Keys;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.crypto.PublicKey;
import io.layerswarm.libp2p.noise.pb.NoiseProtos;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The libp2p {@code NoiseHandshakePayload}: the identity key plus its signature over
 * {@code "noise-libp2p-static-key:" || noise static public key}, binding the libp2p identity to the
 * Noise session; optional extensions carry the advertised stream muxers.
 */
final class HandshakePayloads {

    static final byte[] SIGNATURE_PREFIX = "noise-libp2p-static-key:".getBytes(StandardCharsets.US_ASCII);
    static final int MAX_MUXERS = 32;

    private HandshakePayloads() {
    }

    /** A verified remote payload. */
    record Verified(PeerId peerId, PublicKey identityKey, List<String> streamMuxers) {
    }

    static byte[] encode(PrivateKey identity, byte[] noiseStaticPublic, List<String> streamMuxers) {
        NoiseProtos.NoiseHandshakePayload.Builder b = NoiseProtos.NoiseHandshakePayload.newBuilder()
                .setIdentityKey(ByteString.copyFrom(identity.publicKey().marshal()))
                .setIdentitySig(ByteString.copyFrom(identity.sign(signedData(noiseStaticPublic))));
        if (!streamMuxers.isEmpty()) {
            b.setExtensions(NoiseProtos.NoiseExtensions.newBuilder().addAllStreamMuxers(streamMuxers));
        }
        return b.build().toByteArray();
    }

    /**
     * Parses and verifies a remote payload against the remote Noise static key.
     *
     * @throws NoiseException naming what is wrong
     */
    static Verified verify(byte[] payload, byte[] remoteStatic) {
        NoiseProtos.NoiseHandshakePayload pb;
        try {
            pb = NoiseProtos.NoiseHandshakePayload.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new NoiseException("Noise: malformed libp2p handshake payload: " + e.getMessage(), e);
        }
        if (!pb.hasIdentityKey() || !pb.hasIdentitySig()) {
            throw new NoiseException("Noise: handshake payload lacks identity_key or identity_sig");
        }
        PublicKey key;
        try {
            key = Keys.unmarshalPublicKey(pb.getIdentityKey().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new NoiseException("Noise: remote identity key rejected: " + e.getMessage(), e);
        }
        if (!key.verify(signedData(remoteStatic), pb.getIdentitySig().toByteArray())) {
            throw new NoiseException("Noise: remote identity signature over the static key is invalid");
        }
        List<String> muxers = pb.hasExtensions() ? pb.getExtensions().getStreamMuxersList() : List.of();
        if (muxers.size() > MAX_MUXERS) {
            throw new NoiseException("Noise: remote advertised " + muxers.size() + " stream muxers");
        }
        return new Verified(PeerId.fromPublicKey(key), key, List.copyOf(muxers));
    }

    private static byte[] signedData(byte[] staticPublic) {
        byte[] data = new byte[SIGNATURE_PREFIX.length + staticPublic.length];
        System.arraycopy(SIGNATURE_PREFIX, 0, data, 0, SIGNATURE_PREFIX.length);
        System.arraycopy(staticPublic, 0, data, SIGNATURE_PREFIX.length, staticPublic.length);
        return data;
    }
}
