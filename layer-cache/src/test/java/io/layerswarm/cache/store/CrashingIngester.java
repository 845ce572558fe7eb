package io.layerswarm.cache.store;

import io.layerswarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

/**
 * Child-JVM program for {@link ContentStoreCrashIT}: commits a few blobs, then starts a slow ingest
 * and a partial blob that never finish, and waits to be killed.
 */
public final class CrashingIngester {
    private CrashingIngester() {
    }

    /** Args: store root, number of blobs to commit first. */
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        ContentStore store = ContentStore.open(root);
        for (int i = 0; i < n; i++) {
            byte[] data = ContentStoreTest.random(50_000 + i, 1000 + i);
            Digest d = Digest.sha256(data);
            store.ingest(d, new ByteArrayInputStream(data));
            System.out.println("COMMITTED " + d);
        }
        byte[] big = ContentStoreTest.random(8_000_000, 99);
        Digest bigDigest = Digest.sha256(big);
        PartialBlob partial = store.openPartial(bigDigest, big.length);
        partial.write(4_000_000, ByteBuffer.wrap(big, 4_000_000, 1_000_000));
        System.out.println("SLOW " + bigDigest);
        InputStream slow = new InputStream() {
            private int pos;
            private boolean announced;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= 1_000_000 && !announced) {
                    announced = true;
                    System.out.println("INGESTING");
                    System.out.flush();
                }
                if (pos >= 1_000_000) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                int k = Math.min(len, Math.min(65_536, big.length - pos));
                if (k <= 0) {
                    return -1;
                }
                System.arraycopy(big, pos, b, off, k);
                pos += k;
                return k;
            }
        };
        store.ingest(bigDigest, slow);
        System.out.println("FINISHED (the parent should have killed us first)");
    }
}
