package dev.kdp.bench;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

/**
 * FileStreamSinkTask's loop (println of each value) into a 64 KiB buffer, then gzip at the
 * configured level. After each batch it prints "progress <task> <records>" to stdout (one line per
 * poll of up to 500 records): the benchmark's measure, as the file's size is for the uncompressed
 * peer.
 */
public class GzipFileSinkTask extends SinkTask {
    private PrintStream out;
    private String task;
    private long records;

    @Override
    public void start(Map<String, String> props) {
        AbstractConfig config = new AbstractConfig(GzipFileSinkConnector.CONFIG_DEF, props);
        task = props.getOrDefault("task", "0");
        final int level = config.getInt("gzip.level");
        try {
            OutputStream file = Files.newOutputStream(Paths.get(config.getString("file").replace("{task}", task)));
            GZIPOutputStream gzip = new GZIPOutputStream(file, 64 * 1024) {
                {
                    def.setLevel(level);
                }
            };
            out = new PrintStream(new BufferedOutputStream(gzip, 64 * 1024), false, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConnectException("cannot open the output file", e);
        }
    }

    @Override
    public void put(Collection<SinkRecord> sinkRecords) {
        for (SinkRecord record : sinkRecords) out.println(record.value());
        if (sinkRecords.isEmpty()) return;
        records += sinkRecords.size();
        System.out.println("progress " + task + " " + records);
        System.out.flush();
    }

    @Override
    public void flush(Map<TopicPartition, OffsetAndMetadata> offsets) {
        out.flush();
    }

    @Override
    public void stop() {
        if (out != null) out.close();
    }

    @Override
    public String version() {
        return "1";
    }
}
