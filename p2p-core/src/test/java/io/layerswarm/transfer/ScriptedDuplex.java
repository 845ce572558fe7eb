package io.layerswarm.transfer;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;

/** A stream whose peer's bytes are a fixed script; what the client writes is dropped. */
final class ScriptedDuplex implements Duplex {
    private final InputStream in;
    private final boolean reusable;
    volatile boolean closed;

    ScriptedDuplex(byte[] script, boolean reusable) {
        this.in = new ByteArrayInputStream(script);
        this.reusable = reusable;
    }

    @Override
    public InputStream in() {
        return in;
    }

    @Override
    public OutputStream out() {
        return OutputStream.nullOutputStream();
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public boolean reusable() {
        return reusable;
    }
}
