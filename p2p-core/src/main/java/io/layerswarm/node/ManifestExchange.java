package io.layerswarm.node;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.oci.Digest;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@value #PROTOCOL}: a node hands the manifests it has already seen to peers whose upstream registry
 * is unreachable, so a fresh node can still resolve a tag while the registry is down. Blobs need no
 * such help (the swarm carries them); a manifest by digest is verified against that digest, and a
 * manifest by tag is trusted as far as the (private) swarm is.
 *
 * <p>Wire format, {@link LengthPrefixed} frames: request one frame {@code UTF-8 "ns|repo@ref"} (ns: the
 * upstream's host[:port], so two registries' same-named repositories never mix); response an empty
 * frame when not found, else a frame with the UTF-8 media type and a frame with the manifest bytes.
 */
final class ManifestExchange {
    /** The protocol id. */
    public static final String PROTOCOL = "/layerswarm/manifest/1.2.0";
    static final int MAX_KEY = 1024;
    static final int MAX_MEDIA_TYPE = 256;
    static final int MAX_MANIFEST = 4 * 1024 * 1024;
    private static final Logger log = LoggerFactory.getLogger(ManifestExchange.class);

    private final Host host;
    private final Duration timeout;

    private ManifestExchange(Host host, Duration timeout) {
        this.host = host;
        this.timeout = timeout;
    }

    /**
     * Serves the seen manifests of {@code providers} (keyed by upstream host[:port]) and returns the
     * asking side; a repository {@code withheld} (namespace, repository) is answered as not found.
     */
    public static ManifestExchange attach(Host host, Map<String, PullThroughProvider> providers,
                                          java.util.function.BiPredicate<String, String> withheld, Duration timeout) {
        Map<String, PullThroughProvider> byNamespace = Map.copyOf(providers);
        host.setBlockingHandler(PROTOCOL, stream -> {
            String key = readRequest(stream.inputStream());
            int bar = key.indexOf('|');
            int at = key.indexOf('@', bar + 1);
            if (bar <= 0 || at <= bar + 1) {
                throw new IOException("manifest request without ns|repo@ref: " + key);
            }
            String ns = key.substring(0, bar);
            String repository = key.substring(bar + 1, at);
            PullThroughProvider provider = byNamespace.get(ns);
            Optional<ManifestContent> mc = provider == null || withheld.test(ns, repository) ? Optional.empty()
                    : provider.seen(repository, key.substring(at + 1));
            writeResponse(stream.outputStream(), mc.orElse(null));
            log.info("event=manifest_shared peer={} key={} found={}", stream.remotePeer(), key, mc.isPresent());
        });
        return new ManifestExchange(host, timeout);
    }

    /** Asks connected peers, one after the other, for a manifest they have seen from upstream {@code namespace}. */
    public Optional<ManifestContent> ask(String namespace, String repository, String reference) {
        for (Connection c : host.connections()) {
            try {
                Optional<ManifestContent> mc = askPeer(c, namespace, repository, reference);
                if (mc.isPresent()) {
                    log.info("event=manifest_from_peer peer={} repo={} ref={} digest={}", c.remotePeer(), repository,
                            reference, mc.get().digest());
                    return mc;
                }
            } catch (IOException | RuntimeException e) {
                log.debug("event=manifest_ask_failed peer={} error={}", c.remotePeer(), e.toString());
            }
        }
        return Optional.empty();
    }

    private Optional<ManifestContent> askPeer(Connection c, String namespace, String repository, String reference)
            throws IOException {
        P2pStream s;
        try {
            s = host.newStream(c.remotePeer(), List.of(PROTOCOL)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (Exception e) {
            throw new IOException("cannot open " + PROTOCOL + " stream: " + e, e);
        }
        try {
            writeRequest(s.outputStream(), namespace + "|" + repository + "@" + reference);
            s.closeWrite();
            Optional<ManifestContent> mc = readResponse(s.inputStream());
            if (mc.isPresent() && reference.contains(":") && !reference.equals(mc.get().digest().toString())) {
                throw new IOException("peer sent manifest " + mc.get().digest() + " for " + reference);
            }
            return mc;
        } finally {
            s.close();
        }
    }

    // ------------------------------------------------------------------ codec

    static void writeRequest(OutputStream out, String key) throws IOException {
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        if (b.length == 0 || b.length > MAX_KEY) {
            throw new IOException("manifest key of " + b.length + " bytes outside 1.." + MAX_KEY);
        }
        LengthPrefixed.write(out, b);
        out.flush();
    }

    static String readRequest(InputStream in) throws IOException {
        byte[] key = frame(in, MAX_KEY, "request");
        if (key.length == 0) {
            throw new IOException("manifest request with an empty key");
        }
        return utf8(key, "manifest request key");
    }

    static void writeResponse(OutputStream out, ManifestContent mc) throws IOException {
        if (mc == null) {
            LengthPrefixed.write(out, new byte[0]);
        } else {
            LengthPrefixed.write(out, mc.mediaType().getBytes(StandardCharsets.UTF_8));
            LengthPrefixed.write(out, mc.bytes());
        }
        out.flush();
    }

    static Optional<ManifestContent> readResponse(InputStream in) throws IOException {
        byte[] type = frame(in, MAX_MEDIA_TYPE, "response media type");
        if (type.length == 0) {
            return Optional.empty();
        }
        byte[] bytes = frame(in, MAX_MANIFEST, "response manifest");
        if (bytes.length == 0) {
            throw new IOException("manifest response: empty manifest");
        }
        return Optional.of(new ManifestContent(bytes, utf8(type, "manifest response media type"), Digest.sha256(bytes)));
    }

    /** One frame; a stream that ends before or inside it is a truncated message. */
    private static byte[] frame(InputStream in, int max, String what) throws IOException {
        try {
            byte[] b = LengthPrefixed.read(in, max, m -> new IOException("manifest " + what + ": " + m));
            if (b == null) {
                throw new EOFException("stream ended");
            }
            return b;
        } catch (EOFException e) {
            throw new IOException("manifest " + what + " truncated", e);
        }
    }

    /** Strict UTF-8: a lenient decode would turn bad bytes into U+FFFD and change the text's length. */
    private static String utf8(byte[] b, String what) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(what + " is not UTF-8", e);
        }
    }
}
