package io.layerswarm.k8s.preheat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.k8s.wire.StrictJson;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.oci.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Wire form of the preheat protocol: one {@link LengthPrefixed} frame each way, holding JSON with sorted
 * keys. JSON rather than protobuf because the orchestrator's other messages (status records, the
 * extender) are JSON too and an operator can read a captured frame. Every failure to decode is a
 * {@link ProtocolException} that says what was wrong; nothing is allocated past the frame limits.
 */
public final class PreheatCodec {
    /** Largest request frame: {@link PreheatRequest#MAX_SOURCES} hints with addresses fit well inside. */
    public static final int MAX_REQUEST_BYTES = 1 << 20;
    /** Largest reply frame. */
    public static final int MAX_REPLY_BYTES = 1 << 20;

    /** JSON shape of a request (apart from the record, so the wire can evolve alone). */
    private record RequestJson(@JsonProperty(value = "namespace", required = true) String namespace,
                               @JsonProperty(value = "repository", required = true) String repository,
                               @JsonProperty(value = "reference", required = true) String reference,
                               @JsonProperty(value = "platform", required = true) String platform,
                               @JsonProperty(value = "sources", required = true) Map<String, String> sources,
                               @JsonProperty(value = "addresses", required = true) Map<String, List<String>> addresses) {
    }

    private record ReplyJson(@JsonProperty(value = "status", required = true) PreheatReply.Status status,
                             @JsonProperty(value = "message", required = true) String message,
                             @JsonProperty(value = "blobs", required = true) List<BlobJson> blobs,
                             @JsonProperty(value = "elapsedMillis", required = true) long elapsedMillis) {
    }

    private record BlobJson(@JsonProperty(value = "digest", required = true) String digest,
                            @JsonProperty(value = "peerBytes", required = true) long peerBytes,
                            @JsonProperty(value = "registryBytes", required = true) long registryBytes,
                            @JsonProperty(value = "local", required = true) boolean local,
                            @JsonProperty(value = "error") String error) {
    }

    private final ObjectMapper mapper = StrictJson.mapper(8);

    /** A codec. */
    public PreheatCodec() {
        // stateless apart from the mapper, which is thread-safe once configured
    }

    /** The request's frame body. */
    public byte[] encode(PreheatRequest r) {
        return json(new RequestJson(r.namespace(), r.repository(), r.reference(), r.platform().toString(), r.sources(),
                r.addresses()));
    }

    /** The reply's frame body. */
    public byte[] encode(PreheatReply r) {
        List<BlobJson> blobs = new ArrayList<>();
        for (BlobOutcome b : r.blobs()) {
            blobs.add(new BlobJson(b.digest(), b.peerBytes(), b.registryBytes(), b.local(), b.error()));
        }
        return json(new ReplyJson(r.status(), r.message(), blobs, r.elapsedMillis()));
    }

    /**
     * Parses a request frame body.
     *
     * @throws ProtocolException naming what is wrong
     */
    public PreheatRequest decodeRequest(byte[] body) throws ProtocolException {
        limit(body, MAX_REQUEST_BYTES, "request");
        RequestJson j = parse(body, RequestJson.class, "request");
        try {
            return new PreheatRequest(j.namespace(), j.repository(), j.reference(), Platform.parse(j.platform()),
                    j.sources(), j.addresses());
        } catch (RuntimeException e) {
            throw new ProtocolException("invalid preheat request: " + e.getMessage());
        }
    }

    /**
     * Parses a reply frame body.
     *
     * @throws ProtocolException naming what is wrong
     */
    public PreheatReply decodeReply(byte[] body) throws ProtocolException {
        limit(body, MAX_REPLY_BYTES, "reply");
        ReplyJson j = parse(body, ReplyJson.class, "reply");
        try {
            List<BlobOutcome> blobs = new ArrayList<>();
            for (BlobJson b : j.blobs()) {
                blobs.add(new BlobOutcome(b.digest(), b.peerBytes(), b.registryBytes(), b.local(), b.error()));
            }
            return new PreheatReply(j.status(), j.message(), blobs, j.elapsedMillis());
        } catch (RuntimeException e) {
            throw new ProtocolException("invalid preheat reply: " + e.getMessage());
        }
    }

    /** Writes a request as one frame and flushes. */
    public void write(OutputStream out, PreheatRequest r) throws IOException {
        LengthPrefixed.write(out, encode(r));
        out.flush();
    }

    /** Writes a reply as one frame and flushes. */
    public void write(OutputStream out, PreheatReply r) throws IOException {
        LengthPrefixed.write(out, encode(r));
        out.flush();
    }

    /**
     * Reads one request frame.
     *
     * @throws ProtocolException if the stream ends before a frame, the frame is oversized or its body is not a request
     * @throws java.io.EOFException if the stream ends inside the frame
     */
    public PreheatRequest readRequest(InputStream in) throws IOException {
        return decodeRequest(frame(in, MAX_REQUEST_BYTES, "request"));
    }

    /**
     * Reads one reply frame.
     *
     * @throws ProtocolException if the stream ends before a frame, the frame is oversized or its body is not a reply
     * @throws java.io.EOFException if the stream ends inside the frame
     */
    public PreheatReply readReply(InputStream in) throws IOException {
        return decodeReply(frame(in, MAX_REPLY_BYTES, "reply"));
    }

    private static byte[] frame(InputStream in, int max, String what) throws IOException {
        byte[] body = LengthPrefixed.read(in, max, m -> new ProtocolException("preheat " + what + ": " + m));
        if (body == null) {
            throw new ProtocolException("stream closed before a preheat " + what);
        }
        return body;
    }

    private static void limit(byte[] body, int max, String what) throws ProtocolException {
        if (body.length > max) {
            throw new ProtocolException("preheat " + what + " of " + body.length + " bytes exceeds " + max);
        }
    }

    private <T> T parse(byte[] body, Class<T> type, String what) throws ProtocolException {
        T out;
        try {
            out = mapper.readValue(body, type);
        } catch (IOException | RuntimeException e) {
            throw new ProtocolException("malformed preheat " + what + ": " + firstLine(e.getMessage()));
        }
        if (out == null) {
            throw new ProtocolException("malformed preheat " + what + ": null");
        }
        return out;
    }

    private byte[] json(Object value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a preheat message", e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
