package agg

// $sample picks size documents at random, without replacement, in random order; with
// fewer documents than size it returns them all (shuffled).

import (
	"math/rand/v2"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$sample", parseSample)
}

// sampleStage keeps a uniform random sample of its input.
type sampleStage struct{ size int64 }

func parseSample(spec any, _ *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(28745, "the $sample stage specification must be an object")
	}
	s := &sampleStage{}
	found := false
	for _, e := range d {
		if e.Key != "size" {
			return nil, mongoerr.Newf(28748, "unrecognized option to $sample: %s", e.Key)
		}
		if !value.IsNumber(e.Value) {
			return nil, mongoerr.Newf(28746, "size argument to $sample must be a number")
		}
		n := truncToInt64(e.Value)
		if n < 0 {
			return nil, mongoerr.Newf(28747, "size argument to $sample must not be negative")
		}
		s.size, found = n, true
	}
	if !found {
		return nil, mongoerr.Newf(28749, "$sample stage must specify a size")
	}
	return s, nil
}

// truncToInt64 converts a number the way mongod's numberLong does: truncating toward
// zero, saturating at the int64 range, NaN as 0.
func truncToInt64(v any) int64 {
	if n, ok := value.ToInt64(v); ok {
		return n
	}
	f, _ := value.ToFloat64(v)
	switch {
	case f != f:
		return 0
	case f >= 9.2233720368547758e18:
		return 1<<63 - 1
	case f <= -9.2233720368547758e18:
		return -1 << 63
	}
	return int64(f)
}

func (s *sampleStage) run(_ *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		if s.size == 0 {
			return
		}
		// Reservoir sampling keeps memory at size documents however long the input.
		var kept []bson.D
		var seen int64
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			seen++
			if int64(len(kept)) < s.size {
				kept = append(kept, d)
				continue
			}
			if j := rand.Int64N(seen); j < s.size {
				kept[j] = d
			}
		}
		// The reservoir keeps arrival order for documents that were never replaced.
		rand.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
		for _, d := range kept {
			if !yield(d, nil) {
				return
			}
		}
	}
}
