package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// When GOGC is not set, the heap may grow to heapFloor before a collection,
// or to five times what is live (gcPercent 400) when that is more.
//
// Why: the live heap is small (tens of MB) and each message allocates tens
// of kB, so collections came every one to three seconds at 500 messages/s,
// and on two cores each mark phase took the cores the webhooks and
// PostgreSQL run on; the webhooks acknowledged meanwhile waited. The
// README ("A heap floor keeps collections out of the acknowledgements",
// and "Measured") has the figures. GOGC and GOMEMLIMIT, when set, decide
// as usual; a memory limit below the floor (main sets one in a container
// with a limit) still bounds the heap.
const (
	heapFloor = 256 << 20
	gcPercent = 400
)

// keepHeapFloor sets the collector's percentage after every collection so
// that the next one comes when the heap reaches floor, or grows by
// minPercent of what is live, whichever is more.
func keepHeapFloor(floor uint64, minPercent int) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var adjust func(struct{})
	adjust = func(struct{}) {
		metrics.Read(live)
		debug.SetGCPercent(percentFor(live[0].Value.Uint64(), floor, minPercent))
		// A cleanup runs once the collector has found its object
		// unreachable, that is after the next collection, and adjusts
		// again. The object is larger than the tiny allocator's 16 bytes,
		// so it is freed alone.
		runtime.AddCleanup(new([32]byte), adjust, struct{}{})
	}
	adjust(struct{}{})
}

// percentFor is the GOGC under which a heap with live bytes live next
// collects at floor, never less than minPercent.
func percentFor(live, floor uint64, minPercent int) int {
	if live == 0 || live >= floor {
		return minPercent
	}
	return max(minPercent, int((floor-live)*100/live))
}
