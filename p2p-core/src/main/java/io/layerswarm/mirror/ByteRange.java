package io.layerswarm.mirror;

/**
 * A satisfiable byte range of a blob, from an HTTP {@code Range} header.
 *
 * @param offset first byte
 * @param length number of bytes
 */
record ByteRange(long offset, long length) {

    /** Thrown for a range that cannot be satisfied; the server answers 416. */
    static final class Unsatisfiable extends Exception {
        private static final long serialVersionUID = 1L;

        Unsatisfiable(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Parses a single-range {@code bytes=} header against a blob size.
     *
     * @return the range, or {@code null} if the header is absent or a form this server ignores
     *     (multiple ranges, other units), in which case the whole blob is sent, as RFC 9110 allows
     */
    static ByteRange parse(String header, long size) throws Unsatisfiable {
        if (header == null) {
            return null;
        }
        String h = header.trim();
        if (!h.startsWith("bytes=") || h.indexOf(',') >= 0 || h.length() > 64) {
            return null;
        }
        String spec = h.substring(6).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            throw new Unsatisfiable("malformed range");
        }
        try {
            String first = spec.substring(0, dash).trim();
            String last = spec.substring(dash + 1).trim();
            if (first.isEmpty()) {
                long suffix = Long.parseLong(last);
                if (suffix <= 0 || size == 0) {
                    throw new Unsatisfiable("empty suffix range");
                }
                long n = Math.min(suffix, size);
                return new ByteRange(size - n, n);
            }
            long start = Long.parseLong(first);
            long end = last.isEmpty() ? size - 1 : Math.min(Long.parseLong(last), size - 1);
            if (start < 0 || start >= size || end < start) {
                throw new Unsatisfiable("range " + spec + " outside 0-" + (size - 1));
            }
            return new ByteRange(start, end - start + 1);
        } catch (NumberFormatException e) {
            throw new Unsatisfiable("malformed range");
        }
    }
}
