package io.layerswarm.daemon.demo;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One {@link SwarmNode} as its own process, driven over stdin/stdout by a test that starts several in
 * separate network namespaces. Protocol (one line each):
 * <pre>
 *   out: addr MULTIADDR            once listening
 *   in:  peer MULTIADDR            zero or more: dial these nodes
 *   in:  connect                   dial them now; out: connected
 *   in:  go                        deploy; out: done MILLIS PEER_BYTES ORIGIN_BYTES ROOTFS_SHA256 ENTRIES
 *   in:  go layout                 the same without unpacking (the rootfs stays empty)
 *   in:  (end of input)            exit
 * </pre>
 * Errors are printed as {@code error MESSAGE} and end the process with status 1.
 *
 * <p>Usage: {@code NodeProcess BIND_IP DIR UPSTREAM_URL REPOSITORY TAG PIECE_KIB CLAIM_WAIT_MS}
 */
public final class NodeProcess {
    private NodeProcess() {
    }

    /** Runs the node until stdin ends. */
    public static void main(String[] args) throws Exception {
        if (args.length != 7 && args.length != 8) {
            System.err.println("usage: NodeProcess BIND_IP DIR UPSTREAM_URL REPOSITORY TAG PIECE_KIB CLAIM_WAIT_MS"
                    + " [ORIGIN_STALL_MS]");
            System.exit(2);
        }
        Path dir = Path.of(args[1]);
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "node");
            t.setDaemon(true);
            return t;
        });
        try (SwarmNode node = SwarmNode.start(args[0], dir, URI.create(args[2]), Integer.parseInt(args[5]) * 1024,
                java.time.Duration.ofMillis(Long.parseLong(args[6])), args.length == 8
                        ? java.time.Duration.ofMillis(Long.parseLong(args[7]))
                        : io.layerswarm.node.SwarmConfig.defaults().originStall(), pool)) {
            System.out.println("addr " + node.address());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            java.util.List<Multiaddr> peers = new java.util.ArrayList<>();
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("peer ")) {
                    peers.add(Multiaddr.parse(line.substring(5).trim()));
                } else if (line.equals("connect")) {
                    for (Multiaddr p : peers) {
                        node.connect(p);
                    }
                    System.out.println("connected");
                } else if (line.equals("go") || line.equals("go layout")) {
                    Deployment.Result r = Deployment.run(node.mirrorClient(), args[3], args[4], node.store(),
                            dir.resolve("layout"), dir.resolve("rootfs"), line.equals("go"), pool);
                    RootfsDigest d = RootfsDigest.of(r.rootfs());
                    System.out.println("done " + r.elapsed().toMillis() + " " + node.peerBytes() + " "
                            + node.originBytes() + " " + d.sha256() + " " + d.entries());
                }
                System.out.flush();
            }
        } catch (Exception e) {
            System.out.println("error " + String.valueOf(e.getMessage()).replaceAll("\\s+", " "));
            System.out.flush();
            System.exit(1);
        } finally {
            pool.shutdownNow();
        }
        System.exit(0);
    }
}
