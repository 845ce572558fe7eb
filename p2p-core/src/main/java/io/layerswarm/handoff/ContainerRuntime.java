package io.layerswarm.handoff;

import java.io.IOException;

/**
 * The container engine a handoff drives on one node: find a running container's writable layer, stop
 * it (or start it again on rollback), and on the target pull an image by digest, create a container
 * from it and start it once its writable layer has been filled.
 */
public interface ContainerRuntime {
    /** The container's image (by digest) and process. */
    ContainerConfig inspect(String id) throws IOException;

    /** What a container's task is doing. */
    enum TaskState {
        /** No task (never started, or deleted). */
        NONE,
        /** Running. */
        RUNNING,
        /** Frozen by {@link #pause}. */
        PAUSED,
        /** Any other state (created, stopped: the process exited, ...). */
        OTHER
    }

    /** The container's task state. */
    TaskState taskState(String id) throws IOException;

    /** Whether the container's task is running. */
    default boolean running(String id) throws IOException {
        return taskState(id) == TaskState.RUNNING;
    }

    /** The container's writable layer and image directories (readable while its task runs). */
    WritableLayer writableLayer(String id) throws IOException;

    /** Pulls the image through this node's registry mirror (so from swarm peers), unpacked. */
    void pull(ImageRef image) throws IOException;

    /** Creates the container from its image without starting it. */
    void create(ContainerConfig config) throws IOException;

    /** Starts the container's task (detached). */
    void start(String id) throws IOException;

    /**
     * Freezes the container's task in place (cgroup freezer): from the return on, its processes change
     * no file, so a scan after it is final. Cheaper than {@link #stop}, which can follow it (after the
     * target runs) or {@link #resume} (rollback: the same processes go on, memory and all).
     */
    void pause(String id) throws IOException;

    /** Thaws a task {@link #pause}d before. */
    void resume(String id) throws IOException;

    /** Kills and deletes the container's task, running or paused; the container and its writable layer stay. */
    void stop(String id) throws IOException;

    /** Removes the container, its task and its writable layer. */
    void remove(String id) throws IOException;
}
