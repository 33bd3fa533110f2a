package dev.kdp.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/**
 * FileStreamSinkConnector with gzip: the gzip peer of kdp's archiver in bench/archiver/peers.ts.
 * No connector on Maven Central writes gzip files (the Confluent and Aiven S3 sinks are not there),
 * so this is FileStreamSink's work (StringConverter values, one per line) through JDK's
 * GZIPOutputStream at `gzip.level` (kdp's level: 1). Each task writes its own file (`{task}` in `file`
 * is its number): two
 * gzip streams cannot share a file as FileStreamSink's appended lines do.
 */
public class GzipFileSinkConnector extends SinkConnector {
    static final ConfigDef CONFIG_DEF = new ConfigDef()
        .define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "the output file of a task; {task} stands for its number")
        .define("gzip.level", ConfigDef.Type.INT, 1, ConfigDef.Importance.MEDIUM, "deflate level, 1 (fastest) to 9");

    private Map<String, String> props;

    @Override
    public void start(Map<String, String> props) {
        this.props = props;
    }

    @Override
    public Class<? extends Task> taskClass() {
        return GzipFileSinkTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>();
        for (int task = 0; task < maxTasks; task++) {
            Map<String, String> config = new HashMap<>(props);
            config.put("task", String.valueOf(task));
            configs.add(config);
        }
        return configs;
    }

    @Override
    public void stop() {}

    @Override
    public ConfigDef config() {
        return CONFIG_DEF;
    }

    @Override
    public String version() {
        return "1";
    }
}
