package io.neuronexplainer.launcher.redrive;

import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;

/**
 * The offsets of one dead-letter partition that redrive has dealt with, kept in its consumer
 * group's committed offset: every offset below the committed one, plus ranges above it in the
 * commit's metadata. The ranges exist because {@code --filter} leaves letters behind: a later run
 * must still see those, yet not send again the ones redriven after them.
 */
final class HandledOffsets {
    /** Kafka refuses commit metadata over offset.metadata.max.bytes (4096 by default). */
    static final int MAX_METADATA_CHARS = 3_500;
    private static final String PREFIX = "redriven:";

    private long next;
    /** Start offset to inclusive end offset of handled ranges at or above {@code next}, not touching it. */
    private final TreeMap<Long, Long> ranges = new TreeMap<>();

    private HandledOffsets(long next) {
        this.next = next;
    }

    /**
     * What an earlier commit says, or nothing handled when there was none.
     *
     * @param start where reading starts without a commit (the partition's first offset)
     */
    static HandledOffsets of(OffsetAndMetadata committed, long start) {
        if (committed == null) {
            return new HandledOffsets(start);
        }
        HandledOffsets handled = new HandledOffsets(committed.offset());
        String metadata = committed.metadata();
        if (metadata != null && metadata.startsWith(PREFIX) && metadata.length() > PREFIX.length()) {
            for (String range : metadata.substring(PREFIX.length()).split(",")) {
                int dash = range.indexOf('-');
                long from = Long.parseLong(dash < 0 ? range : range.substring(0, dash));
                long to = dash < 0 ? from : Long.parseLong(range.substring(dash + 1));
                handled.addRange(from, to + 1);
            }
        }
        return handled;
    }

    /** The first offset not yet dealt with: where the next run starts reading. */
    long next() {
        return next;
    }

    boolean contains(long offset) {
        if (offset < next) {
            return true;
        }
        Map.Entry<Long, Long> range = ranges.floorEntry(offset);
        return range != null && range.getValue() >= offset;
    }

    /**
     * Marks {@code [from, toExclusive)} handled, unless the commit's metadata would then grow past
     * what Kafka keeps.
     *
     * @return false (and nothing changed) when it would not fit
     */
    boolean tryAdd(long from, long toExclusive) {
        if (toExclusive <= from) {
            return true;
        }
        long savedNext = next;
        TreeMap<Long, Long> saved = new TreeMap<>(ranges);
        addRange(from, toExclusive);
        if (metadata().length() > MAX_METADATA_CHARS) {
            next = savedNext;
            ranges.clear();
            ranges.putAll(saved);
            return false;
        }
        return true;
    }

    /** The commit that records this: the offset to start from and the ranges above it. */
    OffsetAndMetadata toCommit() {
        return new OffsetAndMetadata(next, metadata());
    }

    private void addRange(long from, long toExclusive) {
        long start = Math.max(from, next);
        long end = toExclusive - 1;
        if (end < start) {
            return;
        }
        // Merge with every range it overlaps or touches.
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start - 1) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
            ranges.remove(before.getKey());
        }
        for (Map.Entry<Long, Long> after = ranges.ceilingEntry(start); after != null && after.getKey() <= end + 1;
                after = ranges.ceilingEntry(start)) {
            end = Math.max(end, after.getValue());
            ranges.remove(after.getKey());
        }
        if (start == next) {
            next = end + 1;
        } else {
            ranges.put(start, end);
        }
    }

    private String metadata() {
        if (ranges.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder(PREFIX);
        for (Map.Entry<Long, Long> range : ranges.entrySet()) {
            if (out.length() > PREFIX.length()) {
                out.append(',');
            }
            out.append(range.getKey());
            if (!range.getValue().equals(range.getKey())) {
                out.append('-').append(range.getValue());
            }
        }
        return out.toString();
    }
}
