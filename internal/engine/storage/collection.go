package storage

import (
	"crypto/rand"
	"sync"

	"github.com/google/btree"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// MaxDocumentSize is the largest document MongoDB stores (16 MiB).
const MaxDocumentSize = 16 * 1024 * 1024

// maxNesting is how deep MongoDB lets stored documents nest.
const maxNesting = 100

// Record is one stored document. Records are immutable: an update stores a new Record
// under the same record id, so a reader holding the old one still sees a whole document.
type Record struct {
	RID uint64 // insertion sequence; the collection's natural order
	Doc bson.D
	Raw []byte // the BSON bytes of Doc
}

// ID returns the document's _id.
func (r *Record) ID() any { return r.Doc[0].Value }

// Collection is a collection's documents and indexes. All access goes through Read and
// Write, which hold the collection's lock for the duration of the callback: a write
// callback is atomic with respect to every other operation on the collection.
type Collection struct {
	mu   sync.RWMutex
	db   string
	name string
	uuid bson.Binary
	// options as given to create (validator, capped, …), reported by listCollections.
	options bson.D

	records *btree.BTreeG[*Record]
	indexes []*Index // indexes[0] is the _id index
	nextRID uint64
	size    int64 // total bytes of stored documents

	validator        *match.Matcher
	validationLevel  string
	validationAction string
	capped           bool
	cappedSize       int64
	cappedMax        int64
}

func newCollection(db, name string, options bson.D) (*Collection, error) {
	c := &Collection{
		db:      db,
		name:    name,
		uuid:    newUUID(),
		records: btree.NewG(32, func(a, b *Record) bool { return a.RID < b.RID }),
	}
	if err := c.setOptions(options); err != nil {
		return nil, err
	}
	id, err := newIndex(IndexSpec{Name: "_id_", Key: bson.D{{Key: "_id", Value: int32(1)}}, Unique: true})
	if err != nil {
		return nil, err
	}
	c.indexes = []*Index{id}
	return c, nil
}

func newUUID() bson.Binary {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return bson.Binary{Subtype: 4, Data: b}
}

// Namespace returns "db.collection".
func (c *Collection) Namespace() string { return c.db + "." + c.name }

// Name returns the collection's name.
func (c *Collection) Name() string { return c.name }

// Info returns the collection's options and UUID, as listCollections reports them.
func (c *Collection) Info() (options bson.D, uuid bson.Binary) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return value.CopyDoc(c.options), c.uuid
}

// setOptions validates and applies collection options (from create or collMod).
func (c *Collection) setOptions(options bson.D) error {
	level, action := "strict", "error"
	var validator *match.Matcher
	capped := false
	var size, maxDocs int64
	for _, e := range options {
		switch e.Key {
		case "validator":
			d, ok := e.Value.(bson.D)
			if !ok {
				return mongoerr.Newf(mongoerr.TypeMismatch, "BSON field 'validator' is the wrong type '%s', expected type 'object'", value.TypeName(e.Value))
			}
			m, err := match.Compile(d, nil)
			if err != nil {
				return err
			}
			if len(d) > 0 {
				validator = m
			}
		case "validationLevel":
			s, _ := e.Value.(string)
			if s != "off" && s != "strict" && s != "moderate" {
				return mongoerr.Newf(mongoerr.BadValue, "Enumeration value '%v' for field 'validationLevel' is not a valid value.", e.Value)
			}
			level = s
		case "validationAction":
			s, _ := e.Value.(string)
			if s != "error" && s != "warn" && s != "errorAndLog" {
				return mongoerr.Newf(mongoerr.BadValue, "Enumeration value '%v' for field 'validationAction' is not a valid value.", e.Value)
			}
			action = s
		case "capped":
			capped = value.Truthy(e.Value)
		case "size":
			n, ok := value.ToInt64(e.Value)
			if !ok || n < 0 {
				return mongoerr.Newf(mongoerr.BadValue, "size has to be a non-negative integer")
			}
			size = n
		case "max":
			n, _ := value.ToInt64(e.Value)
			maxDocs = n
		case "collation":
			return mongoerr.Newf(mongoerr.NotImplemented, "mongotest does not support collations")
		case "timeseries", "clusteredIndex", "viewOn", "pipeline", "changeStreamPreAndPostImages", "encryptedFields":
			return mongoerr.Newf(mongoerr.NotImplemented, "mongotest does not support the create option '%s'", e.Key)
		case "storageEngine", "indexOptionDefaults", "comment", "autoIndexId", "flags":
			// Accepted and reported; they do not change behaviour here.
		default:
			return mongoerr.Newf(40415, "BSON field 'create.%s' is an unknown field.", e.Key)
		}
	}
	if capped && size <= 0 {
		return mongoerr.Newf(72, "the 'size' field is required when 'capped' is true")
	}
	c.options = value.CopyDoc(options)
	c.validator, c.validationLevel, c.validationAction = validator, level, action
	c.capped, c.cappedSize, c.cappedMax = capped, size, maxDocs
	return nil
}

// Modify applies collMod options: validator, validationLevel, validationAction. Options
// it is not given keep their values.
func (c *Collection) Modify(changes bson.D) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	merged := value.CopyDoc(c.options)
	for _, ch := range changes {
		replaced := false
		for i := range merged {
			if merged[i].Key == ch.Key {
				merged[i].Value, replaced = ch.Value, true
			}
		}
		if !replaced {
			merged = append(merged, ch)
		}
	}
	return c.setOptions(merged)
}

// Stats returns the document count, the data size in bytes and the number of indexes.
func (c *Collection) Stats() (count int, size int64, indexes int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.records.Len(), c.size, len(c.indexes)
}

// Tx gives a Read or Write callback access to the collection.
type Tx struct {
	c        *Collection
	writable bool
}

// Read runs fn with a shared lock.
func (c *Collection) Read(fn func(tx *Tx) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return fn(&Tx{c: c})
}

// Write runs fn with the exclusive lock.
func (c *Collection) Write(fn func(tx *Tx) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fn(&Tx{c: c, writable: true})
}

// Collection returns the collection the transaction is on.
func (tx *Tx) Collection() *Collection { return tx.c }

// Len returns the number of documents.
func (tx *Tx) Len() int { return tx.c.records.Len() }

// All calls fn for every record in natural order until fn returns false.
func (tx *Tx) All(fn func(*Record) bool) {
	tx.c.records.Ascend(func(r *Record) bool { return fn(r) })
}

// Get returns the record with the given record id.
func (tx *Tx) Get(rid uint64) (*Record, bool) {
	return tx.c.records.Get(&Record{RID: rid})
}

// WriteOptions tune one write.
type WriteOptions struct {
	// BypassValidation skips the collection's validator (bypassDocumentValidation).
	BypassValidation bool
}

// PrepareDocument makes doc storable: it adds an ObjectId _id when there is none, moves
// _id to the front, and checks MongoDB's rules for _id, nesting depth and size. It
// returns the (possibly new) document and its BSON bytes.
func PrepareDocument(doc bson.D, raw []byte) (bson.D, []byte, error) {
	idPos := -1
	for i := range doc {
		if doc[i].Key == "_id" {
			if idPos >= 0 {
				return nil, nil, mongoerr.Newf(mongoerr.BadValue, "can't have multiple _id fields in one document")
			}
			idPos = i
		}
	}
	switch {
	case idPos < 0:
		doc = append(bson.D{{Key: "_id", Value: bson.NewObjectID()}}, doc...)
		raw = nil
	case idPos > 0:
		moved := make(bson.D, 0, len(doc))
		moved = append(moved, doc[idPos])
		moved = append(moved, doc[:idPos]...)
		doc = append(moved, doc[idPos+1:]...)
		raw = nil
	}
	if err := checkID(doc[0].Value); err != nil {
		return nil, nil, err
	}
	if depth(doc) > maxNesting {
		return nil, nil, mongoerr.Newf(mongoerr.Overflow, "BSONObj exceeds maximum nested object depth: %d", maxNesting)
	}
	if raw == nil {
		var err error
		if raw, err = value.Encode(doc); err != nil {
			return nil, nil, mongoerr.Newf(mongoerr.BadValue, "%v", err)
		}
	}
	if len(raw) > MaxDocumentSize {
		return nil, nil, mongoerr.Newf(mongoerr.BSONObjectTooLarge, "object to insert too large. size in bytes: %d, max size: %d", len(raw), MaxDocumentSize)
	}
	return doc, raw, nil
}

func checkID(id any) error {
	switch id.(type) {
	case bson.A:
		return mongoerr.Newf(mongoerr.BadValue, "The '_id' value cannot be of type array")
	case bson.Regex:
		return mongoerr.Newf(mongoerr.BadValue, "can't use a regex for _id")
	case bson.Undefined:
		return mongoerr.Newf(mongoerr.BadValue, "can't use a undefined for _id")
	}
	return nil
}

func depth(v any) int {
	switch x := v.(type) {
	case bson.D:
		d := 0
		for _, e := range x {
			d = max(d, depth(e.Value))
		}
		return d + 1
	case bson.A:
		d := 0
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}

func (tx *Tx) mustWrite() {
	if !tx.writable {
		panic("storage: write through a read transaction")
	}
}

// validate applies the collection's validator to a new version of a document. old is the
// previous version for updates (nil for inserts), used by validationLevel "moderate".
func (tx *Tx) validate(doc, old bson.D, opts WriteOptions) error {
	c := tx.c
	if c.validator == nil || opts.BypassValidation || c.validationLevel == "off" {
		return nil
	}
	if old != nil && c.validationLevel == "moderate" {
		if ok, err := c.validator.Match(old, nil); err != nil || !ok {
			return err
		}
	}
	ok, err := c.validator.Match(doc, nil)
	if err != nil {
		return err
	}
	if ok || c.validationAction == "warn" {
		return nil
	}
	return &mongoerr.Error{
		Code:    mongoerr.DocumentValidationFailure,
		Message: "Document failed validation",
		Extra: bson.D{{Key: "errInfo", Value: bson.D{
			{Key: "failingDocumentId", Value: doc[0].Value},
			{Key: "details", Value: bson.D{{Key: "operatorName", Value: "$and"}, {Key: "reason", Value: "the document does not match the collection's validator"}}},
		}}},
	}
}

// indexKeys computes every index's keys for doc, checking unique indexes against other
// documents (self is the record id the document will have).
func (tx *Tx) indexKeys(doc bson.D, self uint64) ([][][]any, error) {
	c := tx.c
	all := make([][][]any, len(c.indexes))
	for i, ix := range c.indexes {
		keys, err := ix.keys(doc)
		if err != nil {
			return nil, err
		}
		if ix.Spec.Unique {
			for _, k := range keys {
				if _, dup := ix.conflict(k, self); dup {
					return nil, ix.duplicateKeyError(c.Namespace(), k)
				}
			}
		}
		all[i] = keys
	}
	return all, nil
}

// Insert stores a prepared document (see PrepareDocument).
func (tx *Tx) Insert(doc bson.D, raw []byte, opts WriteOptions) (*Record, error) {
	tx.mustWrite()
	c := tx.c
	if err := tx.validate(doc, nil, opts); err != nil {
		return nil, err
	}
	rid := c.nextRID + 1
	keys, err := tx.indexKeys(doc, rid)
	if err != nil {
		return nil, err
	}
	c.nextRID = rid
	rec := &Record{RID: rid, Doc: doc, Raw: raw}
	c.records.ReplaceOrInsert(rec)
	for i, ix := range c.indexes {
		ix.insertKeys(keys[i], rid)
	}
	c.size += int64(len(raw))
	if c.capped {
		tx.evictCapped()
	}
	return rec, nil
}

// evictCapped removes the oldest documents of a capped collection while it is over its
// size or document limit.
func (tx *Tx) evictCapped() {
	c := tx.c
	for c.records.Len() > 1 && (c.size > c.cappedSize || (c.cappedMax > 0 && int64(c.records.Len()) > c.cappedMax)) {
		oldest, _ := c.records.Min()
		tx.Delete(oldest)
	}
}

// Replace stores doc as the new version of old. doc must keep old's _id.
func (tx *Tx) Replace(old *Record, doc bson.D, opts WriteOptions) (*Record, error) {
	tx.mustWrite()
	c := tx.c
	if len(doc) == 0 || doc[0].Key != "_id" || value.Compare(doc[0].Value, old.Doc[0].Value) != 0 {
		return nil, mongoerr.Newf(mongoerr.ImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %s", value.Format(idOf(doc)))
	}
	_, raw, err := PrepareDocument(doc, nil)
	if err != nil {
		return nil, err
	}
	if err := tx.validate(doc, old.Doc, opts); err != nil {
		return nil, err
	}
	newKeys, err := tx.indexKeys(doc, old.RID)
	if err != nil {
		return nil, err
	}
	for i, ix := range c.indexes {
		oldKeys, _ := ix.keys(old.Doc)
		ix.deleteKeys(oldKeys, old.RID)
		ix.insertKeys(newKeys[i], old.RID)
	}
	rec := &Record{RID: old.RID, Doc: doc, Raw: raw}
	c.records.ReplaceOrInsert(rec)
	c.size += int64(len(raw) - len(old.Raw))
	return rec, nil
}

func idOf(doc bson.D) any {
	if v, ok := value.Lookup(doc, "_id"); ok {
		return v
	}
	return nil
}

// Delete removes a record.
func (tx *Tx) Delete(rec *Record) {
	tx.mustWrite()
	c := tx.c
	if _, ok := c.records.Delete(rec); !ok {
		return
	}
	for _, ix := range c.indexes {
		keys, _ := ix.keys(rec.Doc)
		ix.deleteKeys(keys, rec.RID)
	}
	c.size -= int64(len(rec.Raw))
}

// Indexes returns the specs of the collection's indexes, _id first.
func (tx *Tx) Indexes() []IndexSpec {
	specs := make([]IndexSpec, len(tx.c.indexes))
	for i, ix := range tx.c.indexes {
		specs[i] = ix.Spec
	}
	return specs
}

// CreateIndex builds an index over the existing documents. It reports false when an
// identical index already exists.
func (tx *Tx) CreateIndex(spec IndexSpec) (bool, error) {
	tx.mustWrite()
	c := tx.c
	if spec.Name == "" {
		spec.Name = DefaultIndexName(spec.Key)
	}
	for _, ix := range c.indexes {
		sameKey := value.Compare(ix.Spec.Key, spec.Key) == 0
		switch {
		case ix.Spec.Name == spec.Name && sameKey:
			if sameOptions(ix.Spec, spec) {
				return false, nil
			}
			return false, mongoerr.Newf(mongoerr.IndexOptionsConflict, "An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: %s, existing index: %s", value.Format(spec.Document()), value.Format(ix.Spec.Document()))
		case ix.Spec.Name == spec.Name:
			return false, mongoerr.Newf(mongoerr.IndexKeySpecsConflict, "An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: %s, existing index: %s", value.Format(spec.Document()), value.Format(ix.Spec.Document()))
		case sameKey && sameOptions(ix.Spec, spec):
			return false, mongoerr.Newf(mongoerr.IndexOptionsConflict, "Index already exists with a different name: %s", ix.Spec.Name)
		}
	}
	ix, err := newIndex(spec)
	if err != nil {
		return false, err
	}
	var buildErr error
	c.records.Ascend(func(r *Record) bool {
		keys, err := ix.keys(r.Doc)
		if err != nil {
			buildErr = err
			return false
		}
		if spec.Unique {
			for _, k := range keys {
				if _, dup := ix.conflict(k, r.RID); dup {
					buildErr = ix.duplicateKeyError(c.Namespace(), k)
					return false
				}
			}
		}
		ix.insertKeys(keys, r.RID)
		return true
	})
	if buildErr != nil {
		return false, buildErr
	}
	c.indexes = append(c.indexes, ix)
	return true, nil
}

func sameOptions(a, b IndexSpec) bool {
	return a.Unique == b.Unique && a.Sparse == b.Sparse &&
		value.Compare(a.PartialFilter, b.PartialFilter) == 0 &&
		(a.ExpireAfterSeconds == nil) == (b.ExpireAfterSeconds == nil) &&
		(a.ExpireAfterSeconds == nil || *a.ExpireAfterSeconds == *b.ExpireAfterSeconds)
}

// DropIndex removes the named index. The _id index cannot be dropped.
func (tx *Tx) DropIndex(name string) error {
	tx.mustWrite()
	c := tx.c
	if name == "_id_" {
		return mongoerr.Newf(mongoerr.InvalidOptions, "cannot drop _id index")
	}
	for i, ix := range c.indexes {
		if ix.Spec.Name == name {
			c.indexes = append(c.indexes[:i:i], c.indexes[i+1:]...)
			return nil
		}
	}
	return mongoerr.Newf(mongoerr.IndexNotFound, "index not found with name [%s]", name)
}

// IndexNameForKey returns the name of the index with the given key pattern.
func (tx *Tx) IndexNameForKey(key bson.D) (string, bool) {
	for _, ix := range tx.c.indexes {
		if value.Compare(ix.Spec.Key, key) == 0 {
			return ix.Spec.Name, true
		}
	}
	return "", false
}
