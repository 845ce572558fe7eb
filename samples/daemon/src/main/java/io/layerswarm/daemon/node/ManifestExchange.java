package io.layerswarm.daemon.node;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.oci.Digest;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * <p>Wire format, both directions big-endian: request {@code u16 length, UTF-8 "ns|repo@ref"} (ns: the
 * upstream's host[:port], so two registries' same-named repositories never mix); response
 * {@code u8 found}, then if found {@code u16 length, UTF-8 media type, u32 length, manifest bytes}.
 */
public final class ManifestExchange {
    /** The protocol id. */
    public static final String PROTOCOL = "/layerswarm/manifest/1.1.0";
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

    /** Serves the seen manifests of {@code providers} (keyed by upstream host[:port]) and returns the asking side. */
    public static ManifestExchange attach(Host host, Map<String, PullThroughProvider> providers, Duration timeout) {
        Map<String, PullThroughProvider> byNamespace = Map.copyOf(providers);
        host.setBlockingHandler(PROTOCOL, stream -> {
            String key = readRequest(stream.inputStream());
            int bar = key.indexOf('|');
            int at = key.indexOf('@', bar + 1);
            if (bar <= 0 || at <= bar + 1) {
                throw new IOException("manifest request without ns|repo@ref: " + key);
            }
            PullThroughProvider provider = byNamespace.get(key.substring(0, bar));
            Optional<ManifestContent> mc = provider == null ? Optional.empty()
                    : provider.seen(key.substring(bar + 1, at), key.substring(at + 1));
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
        if (b.length > MAX_KEY) {
            throw new IOException("manifest key longer than " + MAX_KEY + " bytes");
        }
        DataOutputStream d = new DataOutputStream(out);
        d.writeShort(b.length);
        d.write(b);
        d.flush();
    }

    static String readRequest(InputStream in) throws IOException {
        try {
            return readRequestFrame(in);
        } catch (EOFException e) {
            throw new IOException("manifest request truncated", e);
        }
    }

    private static String readRequestFrame(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int n = d.readUnsignedShort();
        if (n == 0 || n > MAX_KEY) {
            throw new IOException("manifest request key length " + n + " outside 1.." + MAX_KEY);
        }
        return new String(readFully(d, n), StandardCharsets.UTF_8);
    }

    static void writeResponse(OutputStream out, ManifestContent mc) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        if (mc == null) {
            d.writeByte(0);
        } else {
            byte[] type = mc.mediaType().getBytes(StandardCharsets.UTF_8);
            d.writeByte(1);
            d.writeShort(type.length);
            d.write(type);
            d.writeInt(mc.bytes().length);
            d.write(mc.bytes());
        }
        d.flush();
    }

    static Optional<ManifestContent> readResponse(InputStream in) throws IOException {
        try {
            return readResponseFrame(in);
        } catch (EOFException e) {
            throw new IOException("manifest response truncated", e);
        }
    }

    private static Optional<ManifestContent> readResponseFrame(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int found = d.readUnsignedByte();
        if (found == 0) {
            return Optional.empty();
        }
        if (found != 1) {
            throw new IOException("manifest response: bad status byte " + found);
        }
        int tn = d.readUnsignedShort();
        if (tn == 0 || tn > MAX_MEDIA_TYPE) {
            throw new IOException("manifest response: media type length " + tn + " outside 1.." + MAX_MEDIA_TYPE);
        }
        String type = new String(readFully(d, tn), StandardCharsets.UTF_8);
        int bn = d.readInt();
        if (bn <= 0 || bn > MAX_MANIFEST) {
            throw new IOException("manifest response: manifest length " + bn + " outside 1.." + MAX_MANIFEST);
        }
        byte[] bytes = readFully(d, bn);
        return Optional.of(new ManifestContent(bytes, type, Digest.sha256(bytes)));
    }

    /** readNBytes returns short on EOF; a truncated frame is an error instead. */
    private static byte[] readFully(DataInputStream d, int n) throws IOException {
        byte[] b = d.readNBytes(n);
        if (b.length != n) {
            throw new EOFException("truncated: expected " + n + " bytes, got " + b.length);
        }
        return b;
    }
}
