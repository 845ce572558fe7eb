package io.layerswarm.k8s.status;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.k8s.wire.StrictJson;
import io.layerswarm.libp2p.crypto.PrivateKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Wire form of a signed status record: {@code u32 payloadLength, payload (JSON), u16 signatureLength,
 * signature}, big-endian. The payload is JSON with sorted keys, so one record always encodes to the
 * same bytes. Signing prepends the domain string, so a status signature can never be replayed as a
 * signature of anything else the node signs.
 */
public final class StatusRecordCodec {
    /** Domain separation prefix of the signed bytes. */
    public static final byte[] DOMAIN = "layerswarm-node-status:".getBytes(StandardCharsets.US_ASCII);
    /** Largest encoded record: 100k layers of about 90 bytes of JSON each. */
    public static final int MAX_RECORD_BYTES = 8 << 20;
    private static final int MAX_SIGNATURE_BYTES = 1024;

    private final ObjectMapper mapper;

    /** A codec. */
    public StatusRecordCodec() {
        mapper = StrictJson.mapper(16);
    }

    /** JSON shape of the payload (kept apart from the domain records so the wire can evolve alone). */
    private record Payload(@JsonProperty(value = "peerId", required = true) String peerId,
                           @JsonProperty(value = "version", required = true) long version,
                           @JsonProperty(value = "issuedAt", required = true) long issuedAt,
                           @JsonProperty(value = "expiresAt", required = true) long expiresAt,
                           @JsonProperty(value = "node", required = true) String node,
                           @JsonProperty(value = "layers", required = true) Map<String, Long> layers,
                           @JsonProperty(value = "capacity", required = true) long capacity,
                           @JsonProperty(value = "free", required = true) long free,
                           @JsonProperty(value = "evictable", required = true) long evictable,
                           @JsonProperty(value = "registries", required = true) Map<String, Link> registries,
                           @JsonProperty(value = "peers", required = true) Map<String, Link> peers) {
    }

    private record Link(@JsonProperty(value = "bps", required = true) double bps,
                        @JsonProperty(value = "rttMs", required = true) double rttMs) {
    }

    /** Signs {@code record} with the publisher's key (whose peer id the record must name). */
    public SignedStatusRecord sign(StatusRecord record, PrivateKey key) {
        byte[] payload = payload(record);
        return new SignedStatusRecord(record, payload, key.sign(signedBytes(payload)));
    }

    /** The bytes a signature covers: domain then payload. */
    static byte[] signedBytes(byte[] payload) {
        byte[] out = new byte[DOMAIN.length + payload.length];
        System.arraycopy(DOMAIN, 0, out, 0, DOMAIN.length);
        System.arraycopy(payload, 0, out, DOMAIN.length, payload.length);
        return out;
    }

    /** Encodes for the wire. */
    public byte[] encode(SignedStatusRecord r) {
        byte[] p = r.payload();
        byte[] s = r.signature();
        return ByteBuffer.allocate(4 + p.length + 2 + s.length).putInt(p.length).put(p).putShort((short) s.length).put(s).array();
    }

    /**
     * Decodes and parses; does not verify (see {@link StatusRecordVerifier}).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public SignedStatusRecord decode(byte[] bytes) {
        if (bytes.length > MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("status record of " + bytes.length + " bytes exceeds " + MAX_RECORD_BYTES);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.remaining() < 4) {
            throw new IllegalArgumentException("status record truncated: no payload length");
        }
        int pl = b.getInt();
        if (pl < 2 || pl > b.remaining() - 2) {
            throw new IllegalArgumentException("status record payload length " + pl + " does not fit the " + bytes.length + " bytes");
        }
        byte[] payload = new byte[pl];
        b.get(payload);
        int sl = b.getShort() & 0xffff;
        if (sl == 0 || sl > MAX_SIGNATURE_BYTES || sl != b.remaining()) {
            throw new IllegalArgumentException("status record signature length " + sl + " does not match the "
                    + b.remaining() + " bytes left");
        }
        byte[] sig = new byte[sl];
        b.get(sig);
        return new SignedStatusRecord(parse(payload), payload, sig);
    }

    private byte[] payload(StatusRecord r) {
        NodeStatus s = r.status();
        Payload p = new Payload(r.peerId(), r.version(), r.issuedAtMillis(), r.expiresAtMillis(), s.nodeName(),
                new TreeMap<>(s.layers()), s.capacityBytes(), s.freeBytes(), s.evictableBytes(), links(s.registries()),
                links(s.peers()));
        try {
            return mapper.writeValueAsBytes(p);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode status record", e);
        }
    }

    private StatusRecord parse(byte[] payload) {
        Payload p;
        try {
            p = mapper.readValue(payload, Payload.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed status record payload: " + e.getMessage(), e);
        }
        if (p == null) {
            throw new IllegalArgumentException("malformed status record payload: null");
        }
        try {
            Map<String, LinkEstimate> reg = new TreeMap<>();
            p.registries().forEach((k, v) -> reg.put(k, new LinkEstimate(v.bps(), v.rttMs())));
            Map<String, LinkEstimate> peers = new TreeMap<>();
            p.peers().forEach((k, v) -> peers.put(k, new LinkEstimate(v.bps(), v.rttMs())));
            for (Map.Entry<String, Long> e : p.layers().entrySet()) {
                if (e.getValue() == null || e.getValue() < 0) {
                    throw new IllegalArgumentException("layer " + e.getKey() + " has no valid size");
                }
            }
            return new StatusRecord(p.peerId(), p.version(), p.issuedAt(), p.expiresAt(),
                    new NodeStatus(p.node(), p.layers(), p.capacity(), p.free(), p.evictable(), reg, peers));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid status record: " + e.getMessage(), e);
        }
    }

    private static Map<String, Link> links(Map<String, LinkEstimate> in) {
        Map<String, Link> out = new TreeMap<>();
        in.forEach((k, v) -> out.put(k, new Link(v.bytesPerSecond(), v.rttMillis())));
        return out;
    }
}
