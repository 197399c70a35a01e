package driverkit

// What a consume's count counts: distinct records, by (topic, partition, offset). A record
// delivered again (a member that lost its group re-reads from the last commit) is kept in the
// result, for the delivery checker, but not counted (harness/clients/consume-count.ts).

type recordID struct {
	topic     string
	partition int32
	offset    int64
}

// DistinctRecords counts distinct records; the zero value is ready to use.
type DistinctRecords struct {
	seen map[recordID]struct{}
}

// Add notes one delivered record.
func (d *DistinctRecords) Add(topic string, partition int32, offset int64) {
	if d.seen == nil {
		d.seen = map[recordID]struct{}{}
	}
	d.seen[recordID{topic, partition, offset}] = struct{}{}
}

// Len is how many distinct records were noted.
func (d *DistinctRecords) Len() int { return len(d.seen) }
