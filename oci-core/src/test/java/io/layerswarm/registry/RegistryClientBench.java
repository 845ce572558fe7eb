package io.layerswarm.registry;

import io.layerswarm.oci.Digest;
import io.layerswarm.testing.RegistryFixture;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Blob download throughput of RegistryClient against curl, from the same docker-registry on
 * loopback, in one run. Run with {@code scripts/bench-registry-client.sh [MiB] [rounds]}.
 */
public final class RegistryClientBench {
    private RegistryClientBench() {
    }

    interface Run {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path dir = Files.createTempDirectory("registry-bench");
        Path blob = dir.resolve("blob");
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (OutputStream out = Files.newOutputStream(blob)) {
            Random rnd = new Random(1);
            byte[] buf = new byte[1 << 20];
            for (int i = 0; i < mib; i++) {
                rnd.nextBytes(buf);
                md.update(buf);
                out.write(buf);
            }
        }
        Digest digest = Digest.fromHash(Digest.Algorithm.SHA256, md.digest());
        long size = Files.size(blob);
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            RegistryClient client = RegistryClient.builder(reg.baseUri()).build();
            client.pushBlob("bench", digest, blob);
            String url = reg.baseUri() + "/v2/bench/blobs/" + digest;
            Path target = dir.resolve("download");
            System.out.printf("blob=%d MiB digest=%s rounds=%d%n", mib, digest.shortHex(12), rounds);
            report("curl -o /dev/null", size, rounds, () -> curl(url, "/dev/null"));
            report("curl -o file", size, rounds, () -> curl(url, target.toString()));
            report("curl | sha256sum (verified)", size, rounds, () -> sh("curl -sf " + url + " | sha256sum | grep -q " + digest.hex()));
            report("RegistryClient.openBlob -> null (verified)", size, rounds, () -> {
                try (InputStream in = client.openBlob("bench", digest, size)) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            });
            report("RegistryClient.downloadBlob -> file (verified)", size, rounds, () -> {
                Files.deleteIfExists(target);
                client.downloadBlob("bench", digest, size, target);
            });
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void report(String name, long size, int rounds, Run run) throws Exception {
        run.run(); // warm-up (JIT, page cache)
        List<Double> mibPerSec = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            run.run();
            double secs = (System.nanoTime() - t0) / 1e9;
            mibPerSec.add(size / 1048576.0 / secs);
        }
        Collections.sort(mibPerSec);
        System.out.printf("%-48s median %7.1f MiB/s  (min %.1f, max %.1f)%n", name, mibPerSec.get(mibPerSec.size() / 2),
                mibPerSec.get(0), mibPerSec.get(mibPerSec.size() - 1));
    }

    private static void curl(String url, String out) throws Exception {
        exec(List.of("curl", "-sf", "-o", out, url));
    }

    private static void sh(String cmd) throws Exception {
        exec(List.of("bash", "-o", "pipefail", "-c", cmd));
    }

    private static void exec(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("failed: " + cmd + "\n" + out);
        }
    }
}
