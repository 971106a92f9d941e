package main

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// The histogram is log-linear, as HDR histograms are: values below
// subCount nanoseconds have a bucket each, larger ones keep their top
// subBits bits, so every bucket is within 1/64 (1.6%) of its values.
const (
	subBits  = 7
	subCount = 1 << subBits
	subHalf  = subCount / 2
	nBuckets = subCount + (64-subBits)*subHalf
	nShards  = 16 // a power of two
)

// bucketOf returns the bucket of a duration in nanoseconds.
func bucketOf(ns int64) int {
	if ns < subCount {
		if ns < 0 {
			return 0
		}
		return int(ns)
	}
	u := uint64(ns)
	shift := bits.Len64(u) - subBits
	return subCount + (shift-1)*subHalf + int(u>>shift) - subHalf
}

// bucketValue returns the middle of bucket i, in nanoseconds.
func bucketValue(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	i -= subCount
	shift := i/subHalf + 1
	lo := uint64(i%subHalf+subHalf) << shift
	return int64(lo + (uint64(1)<<shift)/2)
}

// histogram records latencies from many goroutines: each records into the
// shard of its connection, with atomic adds, and summary merges them.
// All methods are safe for concurrent use.
type histogram struct {
	shards [nShards]histShard
}

type histShard struct {
	counts [nBuckets]atomic.Uint64
	n      atomic.Int64
	sum    atomic.Int64
	max    atomic.Int64
	_      [64]byte
}

// record adds one latency of ns nanoseconds, from connection shard.
func (h *histogram) record(shard int, ns int64) {
	s := &h.shards[shard&(nShards-1)]
	s.counts[bucketOf(ns)].Add(1)
	s.n.Add(1)
	s.sum.Add(ns)
	for {
		m := s.max.Load()
		if ns <= m || s.max.CompareAndSwap(m, ns) {
			return
		}
	}
}

// summary is a histogram's figures, in milliseconds.
type summary struct {
	Count int64
	P50   float64
	P90   float64
	P99   float64
	P999  float64
	Max   float64
	Mean  float64
}

func (h *histogram) summary() summary {
	var (
		counts   [nBuckets]uint64
		n, sum   int64
		maxValue int64
	)
	for i := range h.shards {
		s := &h.shards[i]
		for b := range counts {
			counts[b] += s.counts[b].Load()
		}
		n += s.n.Load()
		sum += s.sum.Load()
		maxValue = max(maxValue, s.max.Load())
	}
	sm := summary{Count: n}
	if n == 0 {
		return sm
	}
	quantile := func(q float64) float64 {
		rank := uint64(math.Ceil(q * float64(n)))
		var seen uint64
		for b, c := range counts {
			seen += c
			if seen >= rank && c > 0 {
				return ms(min(bucketValue(b), maxValue))
			}
		}
		return ms(maxValue)
	}
	sm.P50 = quantile(0.50)
	sm.P90 = quantile(0.90)
	sm.P99 = quantile(0.99)
	sm.P999 = quantile(0.999)
	sm.Max = ms(maxValue)
	sm.Mean = round3(float64(sum) / float64(n) / 1e6)
	return sm
}

// ms converts nanoseconds to milliseconds, to the microsecond.
func ms(ns int64) float64 { return round3(float64(ns) / 1e6) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
