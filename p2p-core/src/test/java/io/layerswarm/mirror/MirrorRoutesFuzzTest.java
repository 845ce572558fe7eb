package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.libp2p.EmbeddedFeed;
import io.layerswarm.oci.Digest;
import io.layerswarm.testing.DecoderContract;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Fuzzes the pull-through mirror's HTTP side, which any pod on the node can reach: the route, namespace
 * and range parsers ({@link IllegalArgumentException} / {@link ByteRange.Unsatisfiable}, ranges inside the
 * blob) and whole requests through the mirror's own pipeline (every answer is a well-formed HTTP response,
 * never a 500, which would mean the handler hit an unexpected exception).
 */
class MirrorRoutesFuzzTest {
    static final byte[] BLOB = "layer bytes".getBytes(StandardCharsets.UTF_8);
    static final Digest BLOB_DIGEST = Digest.sha256(BLOB);
    static final byte[] MANIFEST = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
    private static final DecoderContract ROUTE = DecoderContract.allowing(4L << 20, IllegalArgumentException.class);
    private static final DecoderContract RANGE = DecoderContract.allowing(1L << 20, ByteRange.Unsatisfiable.class);

    @FuzzTest
    void routes(byte[] input) {
        String uri = new String(input, StandardCharsets.UTF_8);
        ROUTE.check(() -> Route.parse(uri));
        ROUTE.check(() -> Route.namespace(uri)).ifPresent(ns -> ns.ifPresent(n ->
                assertTrue(n.length() <= Route.MAX_NAMESPACE && n.matches(Route.NAMESPACE.pattern()), n)));
        for (long size : new long[] {0, 1, BLOB.length, Long.MAX_VALUE}) {
            RANGE.check(() -> ByteRange.parse(uri, size)).ifPresent(r ->
                    assertTrue(r.offset() >= 0 && r.length() > 0 && r.offset() <= size - r.length(),
                            () -> r + " outside a blob of " + size));
        }
    }

    @FuzzTest
    void http(byte[] input) {
        EmbeddedChannel server = new EmbeddedChannel(new HttpServerCodec(4096, 8192, 8192),
                new HttpObjectAggregator(8 * 1024), new ChunkedWriteHandler(),
                new DistributionHandler(new Fixed(), Runnable::run));
        EmbeddedFeed.feed(server, input);
        ByteBuf sent = EmbeddedFeed.outboundBytes(server);
        // status lines only: bodies here are short JSON errors, the fixed manifest or the fixed blob
        String text = sent.toString(StandardCharsets.ISO_8859_1);
        sent.release();
        for (String line : text.split("\r\n")) {
            if (line.startsWith("HTTP/")) {
                assertTrue(line.matches("HTTP/1\\.[01] [1-5][0-9][0-9] .*"), () -> "malformed status line " + line);
                assertNotEquals(HttpResponseStatus.INTERNAL_SERVER_ERROR.code(), Integer.parseInt(line.substring(9, 12)),
                        () -> "the mirror hit an unexpected exception: " + text);
            }
        }
        server.finishAndReleaseAll();
    }

    private static final class Fixed implements ContentProvider {
        @Override
        public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept) {
            return Optional.of(new ManifestContent(MANIFEST, "application/vnd.oci.image.manifest.v1+json",
                    Digest.sha256(MANIFEST)));
        }

        @Override
        public Optional<BlobContent> blob(String repository, Digest digest) {
            return digest.equals(BLOB_DIGEST) ? Optional.of(BlobContent.ofBytes(BLOB)) : Optional.empty();
        }
    }
}
