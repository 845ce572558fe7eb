package io.layerswarm.handoff.containerd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.handoff.ContainerConfig;
import io.layerswarm.handoff.ContainerRuntime;
import io.layerswarm.handoff.ImageRef;
import io.layerswarm.handoff.WritableLayer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ContainerRuntime} on one containerd through {@code ctr}. Pulls go through the registry
 * mirrors of {@code hostsDir} (the node's mirror, so image layers come from swarm peers); new
 * containers use {@code snapshotter} ({@code overlayfs} or {@code native}).
 */
public final class CtrRuntime implements ContainerRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(CtrRuntime.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The Debian package's client. */
    public static final Path CTR = Path.of("/usr/bin/ctr");

    private final Ctr ctr;
    private final Path hostsDir;
    private final String snapshotter;

    /**
     * @param socket containerd's gRPC socket
     * @param hostsDir {@code --hosts-dir} for pulls (null: containerd's default resolution)
     * @param snapshotter snapshotter of containers this runtime creates
     * @param timeout longest one {@code ctr} call may take
     */
    public CtrRuntime(Path socket, Path hostsDir, String snapshotter, Duration timeout) {
        this.ctr = new Ctr(CTR, socket, timeout);
        this.hostsDir = hostsDir;
        this.snapshotter = Objects.requireNonNull(snapshotter, "snapshotter");
    }

    @Override
    public ContainerConfig inspect(String id) throws IOException {
        JsonNode info = info(id);
        String image = info.path("Image").asText("");
        if (image.isEmpty()) {
            throw new IOException("container " + id + " was not created from an image");
        }
        List<String> args = new ArrayList<>();
        info.path("Spec").path("process").path("args").forEach(a -> args.add(a.asText()));
        String cwd = info.path("Spec").path("process").path("cwd").asText("");
        return new ContainerConfig(id, ImageRef.of(image, imageDigest(image)), args, cwd.equals("/") ? "" : cwd);
    }

    private JsonNode info(String id) throws IOException {
        String out = ctr.run("containers", "info", id);
        try {
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new IOException("ctr containers info " + id + ": not JSON: " + e.getMessage(), e);
        }
    }

    /** The digest {@code ctr images ls} lists for an image name. */
    private String imageDigest(String image) throws IOException {
        for (String line : ctr.run("images", "ls").lines().skip(1).toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[0].equals(image)) {
                return f[2];
            }
        }
        throw new IOException("image " + image + " is not in containerd's image store");
    }

    @Override
    public TaskState taskState(String id) throws IOException {
        return switch (status(id)) {
            case "" -> TaskState.NONE;
            case "RUNNING" -> TaskState.RUNNING;
            case "PAUSED" -> TaskState.PAUSED;
            default -> TaskState.OTHER;
        };
    }

    /** The task's status as {@code ctr tasks ls} lists it, "" without a task. */
    private String status(String id) throws IOException {
        for (String line : ctr.run("tasks", "ls").lines().skip(1).toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[0].equals(id)) {
                return f[2];
            }
        }
        return "";
    }

    @Override
    public WritableLayer writableLayer(String id) throws IOException {
        JsonNode info = info(id);
        String key = info.path("SnapshotKey").asText("");
        String sn = info.path("Snapshotter").asText("");
        if (key.isEmpty() || sn.isEmpty()) {
            throw new IOException("container " + id + " has no snapshot");
        }
        // the target path is only printed, never mounted
        return SnapshotMounts.parse(ctr.run("snapshots", "--snapshotter", sn, "mounts", "/layerswarm-unmounted", key));
    }

    @Override
    public void pull(ImageRef image) throws IOException {
        List<String> args = new ArrayList<>(List.of("images", "pull", "--snapshotter", snapshotter));
        if (hostsDir != null) {
            args.addAll(List.of("--hosts-dir", hostsDir.toString()));
        }
        args.add(image.reference());
        ctr.run(args.toArray(String[]::new));
        LOG.info("event=handoff.imagePulled image={}", image.reference());
    }

    @Override
    public void create(ContainerConfig config) throws IOException {
        List<String> args = new ArrayList<>(List.of("containers", "create", "--snapshotter", snapshotter));
        if (!config.cwd().isEmpty()) {
            args.addAll(List.of("--cwd", config.cwd()));
        }
        args.add(config.image().reference());
        args.add(config.id());
        args.add("--"); // ctr would read a "-c" among the process's arguments as its --config flag
        args.addAll(config.args());
        ctr.run(args.toArray(String[]::new));
    }

    @Override
    public void start(String id) throws IOException {
        ctr.run("tasks", "start", "-d", id);
        LOG.info("event=handoff.taskStarted container={}", id);
    }

    @Override
    public void pause(String id) throws IOException {
        ctr.run("tasks", "pause", id);
        LOG.info("event=handoff.taskPaused container={}", id);
    }

    @Override
    public void resume(String id) throws IOException {
        ctr.run("tasks", "resume", id);
        LOG.info("event=handoff.taskResumed container={}", id);
    }

    @Override
    public void stop(String id) throws IOException {
        if (taskState(id) == TaskState.PAUSED) {
            // a frozen process (cgroup v1) takes SIGKILL only when thawed: kill first, so it dies on the thaw
            // without running another instruction
            ctr.run("tasks", "kill", "-s", "SIGKILL", "--all", id);
            ctr.run("tasks", "resume", id);
        }
        // force: SIGKILL, wait for the exit, delete the task; the snapshot stays with the container
        ctr.run("tasks", "rm", "-f", id);
        LOG.info("event=handoff.taskStopped container={}", id);
    }

    @Override
    public void remove(String id) throws IOException {
        ctr.attempt("tasks", "rm", "-f", id); // may have no task
        ctr.run("containers", "rm", id);
    }
}
