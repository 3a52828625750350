package server

import (
	"context"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register((*Server).cmdAggregate, "aggregate")
}

// aggregateSpec is a parsed aggregate command.
type aggregateSpec struct {
	collection string // "" for a database-level aggregate ({aggregate: 1})
	pipeline   bson.A
	let        bson.D
	batchSize  int64
	hasCursor  bool
	explain    bool
}

func parseAggregate(req *request) (*aggregateSpec, error) {
	a := &aggregateSpec{}
	switch x := req.body[0].Value.(type) {
	case string:
		name, err := collectionName(req)
		if err != nil {
			return nil, err
		}
		a.collection = name
	default:
		if n, ok := value.ToInt64(x); !ok || n != 1 {
			return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "Invalid command format: the 'aggregate' field must specify a collection name or 1")
		}
	}
	hasPipeline := false
	err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "pipeline":
			a.pipeline, err = asArray(req.name, e.Key, e.Value)
			hasPipeline = true
		case "cursor":
			var d bson.D
			if d, err = asDoc(req.name, e.Key, e.Value); err == nil {
				a.hasCursor = true
				for _, c := range d {
					if c.Key != "batchSize" {
						return true, unknownField("aggregate.cursor", c.Key)
					}
					a.batchSize, err = asNonNegative(req.name, "cursor.batchSize", c.Value)
				}
			}
		case "explain":
			a.explain, err = asBool(req.name, e.Key, e.Value)
		case "let":
			a.let, err = asDoc(req.name, e.Key, e.Value)
		case "collation":
			err = notSupported("collations")
		case "allowDiskUse", "bypassDocumentValidation", "hint", "fromMongos", "needsMerge", "isMapReduceCommand":
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if !hasPipeline {
		return nil, mongoerr.Newf(40414, "BSON field 'aggregate.pipeline' is missing but a required field")
	}
	if !a.hasCursor && !a.explain {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument")
	}
	return a, nil
}

func (s *Server) cmdAggregate(_ context.Context, req *request) (bson.D, error) {
	a, err := parseAggregate(req)
	if err != nil {
		return nil, err
	}
	env, vars, err := s.env(req, a.let)
	if err != nil {
		return nil, err
	}
	p, err := agg.Compile(a.pipeline, agg.Options{Vars: vars, DB: req.db})
	if err != nil {
		return nil, err
	}
	if a.collection == "" && !p.RunsWithoutCollection() {
		stage := "an empty pipeline"
		if len(a.pipeline) > 0 {
			stage = "'" + a.pipeline[0].(bson.D)[0].Key + "'"
		}
		return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "{aggregate: 1} is not valid for %s; a collection is required.", stage)
	}
	if a.collection != "" && p.RunsWithoutCollection() {
		return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "'%s' can only be run with {aggregate: 1}", a.pipeline[0].(bson.D)[0].Key)
	}
	coll := s.store.Collection(req.db, a.collection)
	if a.explain {
		return s.explainAggregate(req, a, p, coll, env)
	}
	ctx := &agg.Context{Env: env, Store: s.store, DB: req.db}
	var docs []bson.Raw
	for d, err := range p.Run(ctx, coll) {
		if err != nil {
			return nil, err
		}
		raw, err := value.Encode(d)
		if err != nil {
			return nil, mongoerr.Newf(mongoerr.BadValue, "%v", err)
		}
		docs = append(docs, raw)
	}
	if p.Writes() {
		s.tick()
	}
	ns := req.db + "." + a.collection
	if a.collection == "" {
		ns = req.db + ".$cmd.aggregate"
	}
	batchSize := int(a.batchSize)
	if batchSize == 0 {
		if _, given := value.Lookup(req.body, "cursor"); given && hasBatchSize(req.body) {
			return cursorReply("firstBatch", nil, s.cursors.open(ns, docs), ns), nil
		}
	}
	return s.openCursor(ns, docs, batchSize, false), nil
}

// hasBatchSize reports whether the command's cursor document names a batch size.
func hasBatchSize(body bson.D) bool {
	c, _ := value.Lookup(body, "cursor")
	d, _ := c.(bson.D)
	_, ok := value.Lookup(d, "batchSize")
	return ok
}
