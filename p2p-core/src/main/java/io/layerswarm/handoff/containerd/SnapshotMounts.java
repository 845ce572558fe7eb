package io.layerswarm.handoff.containerd;

import io.layerswarm.handoff.WritableLayer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the mount command {@code ctr snapshots mounts TARGET KEY} prints for an active snapshot: an
 * overlay ({@code -o ...,upperdir=U,lowerdir=L1:L2}) or a bind mount of a copied root file system
 * ({@code mount -t bind SRC TARGET -o rbind,rw}, the {@code native} snapshotter).
 */
final class SnapshotMounts {
    private SnapshotMounts() {
    }

    /**
     * Parses the output.
     *
     * @throws IOException with the text if it is not one overlay or bind mount with absolute paths
     */
    static WritableLayer parse(String output) throws IOException {
        String line = output.strip();
        String[] f = line.split(" ");
        if (line.contains("\n") || f.length != 7 || !f[0].equals("mount") || !f[1].equals("-t") || !f[5].equals("-o")) {
            throw new IOException("not one mount command from ctr snapshots mounts: '" + abbreviate(line) + "'");
        }
        String type = f[2];
        String options = f[6];
        if (type.equals("overlay")) {
            Path upper = null;
            List<Path> lower = new ArrayList<>();
            for (String o : options.split(",")) {
                if (o.startsWith("upperdir=")) {
                    upper = absolute(o.substring("upperdir=".length()), line);
                } else if (o.startsWith("lowerdir=")) {
                    for (String l : o.substring("lowerdir=".length()).split(":")) {
                        lower.add(absolute(l, line));
                    }
                }
            }
            if (upper == null) {
                // a snapshot without an upper directory is a read-only view: nothing to hand off
                throw new IOException("overlay mount without upperdir: '" + abbreviate(line) + "'");
            }
            return new WritableLayer(upper, lower);
        }
        if (type.equals("bind")) {
            Path root = absolute(f[3], line);
            return new WritableLayer(root, List.of(root));
        }
        throw new IOException("unsupported snapshot mount type " + type + " (overlay or bind expected)");
    }

    private static Path absolute(String p, String line) throws IOException {
        Path path = Path.of(p);
        if (p.isEmpty() || !path.isAbsolute() || !path.normalize().equals(path)) {
            throw new IOException("not an absolute normal path '" + p + "' in '" + abbreviate(line) + "'");
        }
        return path;
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
