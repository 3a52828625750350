package server

import (
	"context"
	"fmt"
	"math"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register((*Server).cmdCreateIndexes, "createIndexes")
	register((*Server).cmdListIndexes, "listIndexes")
	register((*Server).cmdDropIndexes, "dropIndexes", "deleteIndexes")
}

// parseIndexSpec validates one entry of createIndexes' indexes array.
func parseIndexSpec(v any) (storage.IndexSpec, error) {
	var spec storage.IndexSpec
	d, ok := v.(bson.D)
	if !ok {
		return spec, mongoerr.Newf(mongoerr.TypeMismatch, "The elements of the 'indexes' array must be objects, but found %s", value.TypeName(v))
	}
	specErr := func(format string, args ...any) error {
		return mongoerr.Newf(mongoerr.CannotCreateIndex, "Error in specification %s :: caused by :: %s", value.Format(d), fmt.Sprintf(format, args...))
	}
	for _, e := range d {
		switch e.Key {
		case "key":
			key, ok := e.Value.(bson.D)
			if !ok || len(key) == 0 {
				return spec, specErr("The 'key' field must be a non-empty object")
			}
			spec.Key = key
		case "name":
			name, ok := e.Value.(string)
			if !ok || name == "" {
				return spec, specErr("The 'name' field must be a non-empty string")
			}
			spec.Name = name
		case "unique":
			spec.Unique = value.Truthy(e.Value)
		case "sparse":
			spec.Sparse = value.Truthy(e.Value)
		case "hidden":
			spec.Hidden = value.Truthy(e.Value)
		case "partialFilterExpression":
			pf, ok := e.Value.(bson.D)
			if !ok {
				return spec, specErr("The field 'partialFilterExpression' must be an object")
			}
			spec.PartialFilter = pf
		case "expireAfterSeconds":
			n, ok := value.ToFloat64(e.Value)
			if !ok || n < 0 || n > math.MaxInt32 || math.IsNaN(n) {
				return spec, mongoerr.Newf(mongoerr.CannotCreateIndex, "TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number")
			}
			secs := int64(n)
			spec.ExpireAfterSeconds = &secs
		case "collation":
			return spec, notSupported("collations")
		case "v", "background", "ns", "storageEngine", "prepareUnique":
			if e.Key == "v" || e.Key == "storageEngine" {
				spec.Extra = append(spec.Extra, e)
			}
		case "weights", "default_language", "language_override", "textIndexVersion", "2dsphereIndexVersion", "bits", "min", "max", "wildcardProjection", "clustered":
			return spec, notSupported("the index option '" + e.Key + "'")
		default:
			return spec, mongoerr.Newf(mongoerr.InvalidIndexSpecificationOption, "The field '%s' is not valid for an index specification. Specification: %s", e.Key, value.Format(d))
		}
	}
	if spec.Key == nil {
		return spec, mongoerr.Newf(mongoerr.FailedToParse, "Error in specification %s :: caused by :: The 'key' field is a required property of an index specification", value.Format(d))
	}
	if spec.Name == "" {
		return spec, mongoerr.Newf(mongoerr.FailedToParse, "Error in specification %s :: caused by :: The 'name' field is a required property of an index specification", value.Format(d))
	}
	if spec.Sparse && spec.PartialFilter != nil {
		return spec, specErr("cannot mix \"partialFilterExpression\" and \"sparse\" options")
	}
	if spec.ExpireAfterSeconds != nil && len(spec.Key) != 1 {
		return spec, mongoerr.Newf(mongoerr.CannotCreateIndex, "TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: %s", value.Format(d))
	}
	if len(spec.Key) == 1 && spec.Key[0].Key == "_id" && spec.Name != "_id_" {
		if spec.Unique || spec.Sparse || spec.PartialFilter != nil {
			return spec, specErr("The _id index cannot have unique, sparse or partial options")
		}
	}
	return spec, nil
}

func (s *Server) cmdCreateIndexes(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var list bson.A
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "indexes":
			list, err = asArray(req.name, e.Key, e.Value)
		case "commitQuorum", "ignoreUnknownIndexOptions":
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, mongoerr.Newf(mongoerr.BadValue, "Must specify at least one index to create")
	}
	specs := make([]storage.IndexSpec, len(list))
	for i, v := range list {
		if specs[i], err = parseIndexSpec(v); err != nil {
			return nil, err
		}
	}
	c, created, err := s.store.Ensure(req.db, name)
	if err != nil {
		return nil, err
	}
	var before, after int
	added := 0
	err = c.Write(func(tx *storage.Tx) error {
		before = len(tx.Indexes())
		for _, spec := range specs {
			isNew, err := tx.CreateIndex(spec)
			if err != nil {
				return err
			}
			if isNew {
				added++
			}
		}
		after = len(tx.Indexes())
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.tick()
	reply := []bson.E{
		{Key: "numIndexesBefore", Value: int32(before)},
		{Key: "numIndexesAfter", Value: int32(after)},
		{Key: "createdCollectionAutomatically", Value: created},
	}
	if added == 0 {
		reply = append(reply, bson.E{Key: "note", Value: "all indexes already exist"})
	}
	return ok(reply...), nil
}

func (s *Server) cmdListIndexes(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	batchSize := int64(0)
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		if e.Key != "cursor" {
			return false, nil
		}
		d, err := asDoc(req.name, e.Key, e.Value)
		if err == nil {
			if v, ok := value.Lookup(d, "batchSize"); ok {
				batchSize, err = asNonNegative(req.name, "cursor.batchSize", v)
			}
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return nil, mongoerr.Newf(mongoerr.NamespaceNotFound, "ns does not exist: %s.%s", req.db, name)
	}
	var docs []bson.D
	_ = c.Read(func(tx *storage.Tx) error {
		for _, spec := range tx.Indexes() {
			docs = append(docs, spec.Document())
		}
		return nil
	})
	return s.openCursor(req.db+"."+name, encodeAll(docs), int(batchSize), false), nil
}

func (s *Server) cmdDropIndexes(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var target any
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		if e.Key != "index" {
			return false, nil
		}
		target = e.Value
		return true, nil
	}); err != nil {
		return nil, err
	}
	if target == nil {
		return nil, mongoerr.Newf(40414, "BSON field 'dropIndexes.index' is missing but a required field")
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return nil, mongoerr.Newf(mongoerr.NamespaceNotFound, "ns not found %s.%s", req.db, name)
	}
	var was int
	err = c.Write(func(tx *storage.Tx) error {
		was = len(tx.Indexes())
		switch t := target.(type) {
		case string:
			if t == "*" {
				for _, spec := range tx.Indexes()[1:] {
					if err := tx.DropIndex(spec.Name); err != nil {
						return err
					}
				}
				return nil
			}
			return tx.DropIndex(t)
		case bson.D:
			n, ok := tx.IndexNameForKey(t)
			if !ok {
				return mongoerr.Newf(mongoerr.IndexNotFound, "can't find index with key: %s", value.Format(t))
			}
			return tx.DropIndex(n)
		case bson.A:
			for _, v := range t {
				n, ok := v.(string)
				if !ok {
					return wrongType(req.name, "index", v, " 'string'")
				}
				if err := tx.DropIndex(n); err != nil {
					return err
				}
			}
			return nil
		}
		return wrongType(req.name, "index", target, "s '[string, object, array]'")
	})
	if err != nil {
		return nil, err
	}
	s.tick()
	return ok(bson.E{Key: "nIndexesWas", Value: int32(was)}), nil
}
