package io.layerswarm.daemon.bench;

import io.layerswarm.libp2p.bandwidth.BandwidthLimiter;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A holder for {@code bench-deadpeers}: a {@link Node} in its own process (so that it can be killed
 * or frozen like a real node) that pulls one image from the registry, then serves it to peers with its
 * uploads capped. Protocol: prints {@code addr MULTIADDR} once it holds the image, exits when stdin
 * ends; errors are printed as {@code error MESSAGE} (status 1).
 *
 * <p>Usage: {@code HolderProcess DIR REGISTRY_URL REPOSITORY TAG PIECE_KIB UPLOAD_BYTES_PER_SECOND}
 */
public final class HolderProcess {
    private HolderProcess() {
    }

    /** Runs the holder until stdin ends. */
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: HolderProcess DIR REGISTRY_URL REPOSITORY TAG PIECE_KIB UPLOAD_BYTES_PER_SECOND");
            System.exit(2);
        }
        BandwidthLimiter upload = BandwidthLimiter.of(Long.parseLong(args[5]));
        try (Node node = Node.builder().storeDir(Path.of(args[0])).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .upstream(URI.create(args[1])).noMirror().pieceSize(Integer.parseInt(args[4]) * 1024)
                .host(h -> h.bandwidth(upload, null)).start()) {
            node.pull(args[2], args[3]);
            System.out.println("addr " + node.listenAddrs().get(0));
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (in.readLine() != null) {
                // nothing to do: the holder serves until its input ends
            }
        } catch (Exception e) {
            System.out.println("error " + String.valueOf(e.getMessage()).replaceAll("\\s+", " "));
            System.out.flush();
            System.exit(1);
        }
        System.exit(0);
    }
}
