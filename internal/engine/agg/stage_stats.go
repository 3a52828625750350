package agg

// $collStats and $indexStats report on the pipeline's collection rather than read its
// documents. They must open the pipeline, and they need the collection itself, which the
// pipeline runner hands them through collectionStage.
//
// Only what this server measures is reported: document count and data size (the sum of
// the documents' BSON sizes, as WiredTiger's uncompressed "size"), index count and specs.
// Index sizes and access counters are not tracked, so they read 0; latencyStats and
// queryExecStats are refused rather than invented.

import (
	"math"
	"os"
	"sync"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$collStats", parseCollStats)
	register("$indexStats", parseIndexStats)
}

// collectionStage is implemented by first stages that report on the pipeline's
// collection: the runner calls runCollection with the collection (nil when it does not
// exist) instead of run with its documents.
type collectionStage interface {
	runCollection(c *Context, coll *storage.Collection) Stream
}

var (
	_ firstStage      = (*collStatsStage)(nil)
	_ firstStage      = indexStatsStage{}
	_ collectionStage = (*collStatsStage)(nil)
	_ collectionStage = indexStatsStage{}
)

// statsSince is when this server started counting index accesses.
var statsSince = bson.NewDateTimeFromTime(time.Now())

// hostName is the "host" of stats documents.
var hostName = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
})

// collStatsStage is a compiled $collStats.
type collStatsStage struct {
	storageStats bool
	scale        int64
	count        bool
}

func (*collStatsStage) name() string { return "$collStats" }
func (*collStatsStage) firstOnly()   {}

func parseCollStats(spec any, _ *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40166, "$collStats must take a nested object but found: %s", value.FormatElem("$collStats", spec))
	}
	s := &collStatsStage{scale: 1}
	for _, e := range d {
		switch e.Key {
		case "latencyStats", "storageStats", "count", "queryExecStats":
			if _, ok := e.Value.(bson.D); !ok {
				return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '$collStats.%s' is the wrong type '%s', expected type 'object'", e.Key, value.TypeName(e.Value))
			}
		}
		switch e.Key {
		case "latencyStats", "queryExecStats":
			return nil, mongoerr.Newf(mongoerr.NotImplemented, "mongotest does not track operation latencies or query statistics ($collStats.%s)", e.Key)
		case "storageStats":
			s.storageStats = true
			for _, o := range e.Value.(bson.D) {
				if o.Key != "scale" {
					continue // verbose, waitForLock, numericOnly change nothing here
				}
				if !value.IsNumber(o.Value) {
					return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '$collStats.storageStats.scale' is the wrong type '%s', expected types '[long, int, decimal, double]'", value.TypeName(o.Value))
				}
				n := truncToInt64(o.Value)
				if n < 1 {
					return nil, mongoerr.Newf(51024, "BSON field 'scale' value must be >= 1, actual value '%d'", n)
				}
				if n > math.MaxInt32 {
					return nil, mongoerr.Newf(mongoerr.BadValue, "BSON field '$collStats.storageStats.scale' value must fit in an int")
				}
				s.scale = n
			}
		case "count":
			s.count = true
		case "$_requestOnTimeseriesView":
		default:
			return nil, mongoerr.Newf(40415, "BSON field '$collStats.%s' is an unknown field.", e.Key)
		}
	}
	return s, nil
}

func (s *collStatsStage) run(*Context, Stream) Stream {
	return statsFailure(mongoerr.Newf(mongoerr.NotImplemented, "$collStats needs the pipeline's collection, which this context does not provide"))
}

func (s *collStatsStage) runCollection(c *Context, coll *storage.Collection) Stream {
	return func(yield func(bson.D, error) bool) {
		ns := c.DB + "."
		if coll != nil {
			ns = coll.Namespace()
		}
		var now bson.DateTime
		if c.Env != nil {
			now = c.Env.Now
		}
		out := bson.D{{Key: "ns", Value: ns}, {Key: "host", Value: hostName()}, {Key: "localTime", Value: now}}
		if s.storageStats {
			if coll == nil {
				yield(nil, mongoerr.Newf(mongoerr.NamespaceNotFound, "Unable to retrieve storageStats in $collStats stage :: caused by :: Collection [%s] not found.", ns))
				return
			}
			st, err := s.storage(coll)
			if err != nil {
				yield(nil, err)
				return
			}
			out = append(out, bson.E{Key: "storageStats", Value: st})
		}
		if s.count {
			if coll == nil {
				yield(nil, mongoerr.Newf(mongoerr.NamespaceNotFound, "Unable to retrieve count in $collStats stage :: caused by :: Collection [%s] not found.", ns))
				return
			}
			n, _, _ := coll.Stats()
			out = append(out, bson.E{Key: "count", Value: smallestInt(int64(n))})
		}
		yield(out, nil)
	}
}

// storage builds storageStats, scaled as asked.
func (s *collStatsStage) storage(coll *storage.Collection) (bson.D, error) {
	var (
		n       int
		size    int64
		indexes []storage.IndexSpec
	)
	err := coll.Read(func(tx *storage.Tx) error {
		indexes = tx.Indexes()
		return nil
	})
	if err != nil {
		return nil, err
	}
	n, size, _ = coll.Stats()
	options, _ := coll.Info()
	capped := false
	var maxDocs, maxSize int64
	for _, e := range options {
		switch e.Key {
		case "capped":
			capped = value.Truthy(e.Value)
		case "size":
			maxSize, _ = value.ToInt64(e.Value)
		case "max":
			maxDocs, _ = value.ToInt64(e.Value)
		}
	}
	scale := s.scale
	st := bson.D{
		{Key: "size", Value: smallestInt(size / scale)},
		{Key: "count", Value: smallestInt(int64(n))},
	}
	if n > 0 {
		st = append(st, bson.E{Key: "avgObjSize", Value: smallestInt(size / int64(n))})
	}
	st = append(st,
		bson.E{Key: "numOrphanDocs", Value: int32(0)},
		bson.E{Key: "storageSize", Value: smallestInt(size / scale)},
		bson.E{Key: "freeStorageSize", Value: int32(0)},
		bson.E{Key: "capped", Value: capped},
	)
	if capped {
		st = append(st, bson.E{Key: "max", Value: smallestInt(maxDocs)}, bson.E{Key: "maxSize", Value: smallestInt(maxSize / scale)})
	}
	sizes := make(bson.D, len(indexes))
	for i, ix := range indexes {
		sizes[i] = bson.E{Key: ix.Name, Value: int32(0)}
	}
	st = append(st,
		bson.E{Key: "nindexes", Value: int32(len(indexes))},
		bson.E{Key: "indexBuilds", Value: bson.A{}},
		bson.E{Key: "totalIndexSize", Value: int32(0)},
		bson.E{Key: "totalSize", Value: smallestInt(size / scale)},
		bson.E{Key: "indexSizes", Value: sizes},
		bson.E{Key: "scaleFactor", Value: int32(scale)},
	)
	return st, nil
}

// statsFailure is the stream of a stats stage run without its collection (inside a
// sub-pipeline, or by a runner that does not know collectionStage).
func statsFailure(err error) Stream {
	return func(yield func(bson.D, error) bool) { yield(nil, err) }
}

// smallestInt is how mongod appends counters: an int when it fits, else a long.
func smallestInt(n int64) any {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

// indexStatsStage is a compiled $indexStats: one document per index.
type indexStatsStage struct{}

func (indexStatsStage) name() string { return "$indexStats" }
func (indexStatsStage) firstOnly()   {}

func parseIndexStats(spec any, _ *Options) (stage, error) {
	if d, ok := spec.(bson.D); !ok || len(d) != 0 {
		return nil, mongoerr.Newf(28803, "The $indexStats stage specification must be an empty object")
	}
	return indexStatsStage{}, nil
}

func (indexStatsStage) run(*Context, Stream) Stream {
	return statsFailure(mongoerr.Newf(mongoerr.NotImplemented, "$indexStats needs the pipeline's collection, which this context does not provide"))
}

func (indexStatsStage) runCollection(_ *Context, coll *storage.Collection) Stream {
	return func(yield func(bson.D, error) bool) {
		if coll == nil {
			return // mongod reports no indexes for a missing collection
		}
		var indexes []storage.IndexSpec
		err := coll.Read(func(tx *storage.Tx) error {
			indexes = tx.Indexes()
			return nil
		})
		if err != nil {
			yield(nil, err)
			return
		}
		for _, ix := range indexes {
			doc := bson.D{
				{Key: "name", Value: ix.Name},
				{Key: "key", Value: ix.Key},
				{Key: "host", Value: hostName()},
				{Key: "accesses", Value: bson.D{{Key: "ops", Value: int64(0)}, {Key: "since", Value: statsSince}}},
				{Key: "spec", Value: ix.Document()},
			}
			if !yield(doc, nil) {
				return
			}
		}
	}
}
