package io.layerswarm.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** A filter whose single-byte read goes through {@link #read(byte[], int, int)}, so subclasses override only that. */
abstract class BulkReadFilterInputStream extends FilterInputStream {
    BulkReadFilterInputStream(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }
}
