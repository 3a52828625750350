package server

import (
	"context"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register((*Server).cmdListDatabases, "listDatabases")
	register((*Server).cmdDropDatabase, "dropDatabase")
	register((*Server).cmdListCollections, "listCollections")
	register((*Server).cmdCreate, "create")
	register((*Server).cmdDrop, "drop")
	register((*Server).cmdRenameCollection, "renameCollection")
	register((*Server).cmdCollMod, "collMod")
	register((*Server).cmdDBStats, "dbStats")
	register((*Server).cmdCollStats, "collStats")
}

// collectionName reads the collection named by a command's first field.
func collectionName(req *request) (string, error) {
	name, ok := req.body[0].Value.(string)
	if !ok {
		return "", mongoerr.Newf(mongoerr.InvalidNamespace, "collection name has invalid type %s", value.TypeName(req.body[0].Value))
	}
	if err := storage.ValidateCollectionName(req.db, name); err != nil {
		return "", err
	}
	return name, nil
}

// filterDocs keeps the documents that match filter.
func filterDocs(docs []bson.D, filter bson.D) ([]bson.D, error) {
	if len(filter) == 0 {
		return docs, nil
	}
	m, err := match.Compile(filter, nil)
	if err != nil {
		return nil, err
	}
	var out []bson.D
	for _, d := range docs {
		ok, err := m.Match(d, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Server) cmdListDatabases(_ context.Context, req *request) (bson.D, error) {
	var filter bson.D
	nameOnly := false
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "filter":
			filter, err = asDoc(req.name, e.Key, e.Value)
		case "nameOnly":
			nameOnly, err = asBool(req.name, e.Key, e.Value)
		case "authorizedDatabases":
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	var dbs []bson.D
	var total int64
	for _, name := range s.store.Databases() {
		var size int64
		for _, c := range s.store.Collections(name) {
			_, sz, _ := c.Stats()
			size += sz
		}
		total += size
		if nameOnly {
			dbs = append(dbs, bson.D{{Key: "name", Value: name}})
		} else {
			dbs = append(dbs, bson.D{{Key: "name", Value: name}, {Key: "sizeOnDisk", Value: size}, {Key: "empty", Value: size == 0}})
		}
	}
	dbs, err := filterDocs(dbs, filter)
	if err != nil {
		return nil, err
	}
	list := make(bson.A, len(dbs))
	for i, d := range dbs {
		list[i] = d
	}
	reply := []bson.E{{Key: "databases", Value: list}}
	if !nameOnly {
		reply = append(reply, bson.E{Key: "totalSize", Value: total}, bson.E{Key: "totalSizeMb", Value: total >> 20})
	}
	return ok(reply...), nil
}

func (s *Server) cmdDropDatabase(_ context.Context, req *request) (bson.D, error) {
	if err := fields(req.name, req.body, func(bson.E) (bool, error) { return false, nil }); err != nil {
		return nil, err
	}
	s.store.DropDatabase(req.db)
	s.tick()
	return ok(bson.E{Key: "dropped", Value: req.db}), nil
}

func (s *Server) cmdListCollections(_ context.Context, req *request) (bson.D, error) {
	var filter bson.D
	nameOnly := false
	batchSize := int64(0)
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "filter":
			filter, err = asDoc(req.name, e.Key, e.Value)
		case "nameOnly":
			nameOnly, err = asBool(req.name, e.Key, e.Value)
		case "cursor":
			var d bson.D
			if d, err = asDoc(req.name, e.Key, e.Value); err == nil {
				if v, ok := value.Lookup(d, "batchSize"); ok {
					batchSize, err = asNonNegative(req.name, "cursor.batchSize", v)
				}
			}
		case "authorizedCollections", "includePendingDrops":
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	var docs []bson.D
	for _, c := range s.store.Collections(req.db) {
		if nameOnly {
			docs = append(docs, bson.D{{Key: "name", Value: c.Name()}, {Key: "type", Value: "collection"}})
			continue
		}
		opts, uuid := c.Info()
		if opts == nil {
			opts = bson.D{}
		}
		docs = append(docs, bson.D{
			{Key: "name", Value: c.Name()},
			{Key: "type", Value: "collection"},
			{Key: "options", Value: opts},
			{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}, {Key: "uuid", Value: uuid}}},
			{Key: "idIndex", Value: bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}},
		})
	}
	docs, err := filterDocs(docs, filter)
	if err != nil {
		return nil, err
	}
	return s.openCursor(req.db+".$cmd.listCollections", encodeAll(docs), int(batchSize), false), nil
}

// encodeAll encodes documents for a cursor.
func encodeAll(docs []bson.D) []bson.Raw {
	out := make([]bson.Raw, len(docs))
	for i, d := range docs {
		out[i] = value.MustEncode(d)
	}
	return out
}

// openCursor returns the first batch of docs and registers the rest as a cursor.
func (s *Server) openCursor(ns string, docs []bson.Raw, batchSize int, singleBatch bool) bson.D {
	if batchSize == 0 {
		batchSize = defaultFirstBatch
	}
	first, rest := batch(docs, batchSize)
	if singleBatch {
		rest = nil
	}
	return cursorReply("firstBatch", first, s.cursors.open(ns, rest), ns)
}

func (s *Server) cmdCreate(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var opts bson.D
	for _, e := range req.body[1:] {
		if !genericFields[e.Key] {
			opts = append(opts, e)
		}
	}
	if _, err := s.store.Create(req.db, name, opts); err != nil {
		return nil, err
	}
	s.tick()
	return ok(), nil
}

func (s *Server) cmdDrop(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	if err := fields(req.name, req.body, func(bson.E) (bool, error) { return false, nil }); err != nil {
		return nil, err
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return ok(), nil // MongoDB 7 no longer reports a missing collection
	}
	_, _, nIndexes := c.Stats()
	s.store.Drop(req.db, name)
	s.tick()
	return ok(bson.E{Key: "nIndexesWas", Value: int32(nIndexes)}, bson.E{Key: "ns", Value: c.Namespace()}), nil
}

func splitNamespace(cmd, field string, v any) (string, string, error) {
	ns, ok := v.(string)
	if !ok {
		return "", "", wrongType(cmd, field, v, " 'string'")
	}
	db, coll, found := strings.Cut(ns, ".")
	if !found || db == "" || coll == "" {
		return "", "", mongoerr.Newf(mongoerr.InvalidNamespace, "Invalid %s namespace: %s", field, ns)
	}
	return db, coll, nil
}

func (s *Server) cmdRenameCollection(_ context.Context, req *request) (bson.D, error) {
	if req.db != "admin" {
		return nil, mongoerr.Newf(13, "renameCollection may only be run against the admin database.")
	}
	fromDB, from, err := splitNamespace(req.name, "renameCollection", req.body[0].Value)
	if err != nil {
		return nil, err
	}
	var toDB, to string
	dropTarget := false
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "to":
			toDB, to, err = splitNamespace(req.name, "to", e.Value)
		case "dropTarget":
			dropTarget, err = asBool(req.name, e.Key, e.Value)
		case "stayTemp":
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	if to == "" {
		return nil, mongoerr.Newf(40414, "BSON field 'renameCollection.to' is missing but a required field")
	}
	if err := s.store.Rename(fromDB, from, toDB, to, dropTarget); err != nil {
		return nil, err
	}
	s.tick()
	return ok(), nil
}

func (s *Server) cmdCollMod(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return nil, mongoerr.Newf(mongoerr.NamespaceNotFound, "ns does not exist: %s.%s", req.db, name)
	}
	var changes bson.D
	var indexChange bson.D
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		switch e.Key {
		case "validator", "validationLevel", "validationAction":
			changes = append(changes, e)
		case "index":
			d, err := asDoc(req.name, e.Key, e.Value)
			indexChange = d
			return true, err
		default:
			return false, nil
		}
		return true, nil
	}); err != nil {
		return nil, err
	}
	if indexChange != nil {
		return nil, notSupported("collMod 'index' changes")
	}
	if err := c.Modify(changes); err != nil {
		return nil, err
	}
	s.tick()
	return ok(), nil
}

func (s *Server) cmdDBStats(_ context.Context, req *request) (bson.D, error) {
	var objects, size int64
	indexes := 0
	colls := s.store.Collections(req.db)
	for _, c := range colls {
		n, sz, ix := c.Stats()
		objects += int64(n)
		size += sz
		indexes += ix
	}
	avg := 0.0
	if objects > 0 {
		avg = float64(size) / float64(objects)
	}
	return ok(
		bson.E{Key: "db", Value: req.db},
		bson.E{Key: "collections", Value: int64(len(colls))},
		bson.E{Key: "views", Value: int64(0)},
		bson.E{Key: "objects", Value: objects},
		bson.E{Key: "avgObjSize", Value: avg},
		bson.E{Key: "dataSize", Value: float64(size)},
		bson.E{Key: "storageSize", Value: float64(size)},
		bson.E{Key: "indexes", Value: int64(indexes)},
		bson.E{Key: "indexSize", Value: 0.0},
		bson.E{Key: "totalSize", Value: float64(size)},
		bson.E{Key: "scaleFactor", Value: int64(1)},
	), nil
}

func (s *Server) cmdCollStats(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return nil, mongoerr.Newf(mongoerr.NamespaceNotFound, "Collection [%s.%s] not found.", req.db, name)
	}
	n, size, nIndexes := c.Stats()
	avg := int64(0)
	if n > 0 {
		avg = size / int64(n)
	}
	sizes := bson.D{}
	_ = c.Read(func(tx *storage.Tx) error {
		for _, spec := range tx.Indexes() {
			sizes = append(sizes, bson.E{Key: spec.Name, Value: int64(0)})
		}
		return nil
	})
	opts, _ := c.Info()
	capped, _ := value.Lookup(opts, "capped")
	return ok(
		bson.E{Key: "ns", Value: c.Namespace()},
		bson.E{Key: "size", Value: size},
		bson.E{Key: "count", Value: int64(n)},
		bson.E{Key: "avgObjSize", Value: avg},
		bson.E{Key: "storageSize", Value: size},
		bson.E{Key: "nindexes", Value: int32(nIndexes)},
		bson.E{Key: "totalIndexSize", Value: int64(0)},
		bson.E{Key: "indexSizes", Value: sizes},
		bson.E{Key: "capped", Value: value.Truthy(capped)},
	), nil
}
