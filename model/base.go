package model

import "go.mongodb.org/mongo-driver/v2/bson"

// Base is embedded by models that declare their own primary key with the
// `modjo:"primary_key"` tag (a string, a UUID, an integer AutoField, or several fields
// for a composite key). It carries the ORM's per-instance bookkeeping.
type Base struct {
	st *State
}

// Model is embedded by models that use MongoDB's default primary key: an ObjectID stored
// as _id (Django's ObjectIdAutoField), assigned when the instance is first saved.
type Model struct {
	Base
	ID bson.ObjectID
}

// Embedded is embedded by structs stored as sub-documents of a model
// (EmbeddedModelField, or EmbeddedModelArrayField for a slice of them). Embedded structs
// have fields and validation but no collection or primary key.
//
// Embedded also keeps the keys of a loaded sub-document that the struct does not declare,
// so saving the parent does not lose them; it is nil (and Embedded equal to its zero
// value) unless there were such keys.
type Embedded struct {
	extra *embeddedExtra
}

// State is the ORM's bookkeeping for one instance, beside its fields.
type State struct {
	// Loaded is true once the instance was read from or written to the database.
	Loaded bool
	// Deferred names the fields a partial load (QuerySet.Only/Defer) did not read; a
	// later Save writes only the other fields so it cannot erase them.
	Deferred map[string]bool
	// Extra keeps stored keys the model does not declare, so a full-replace Save of a
	// document written by another program does not lose them.
	Extra []bson.RawElement
}

// stateHolder is implemented by every model through Base.
type stateHolder interface {
	modelState() **State
}

func (b *Base) modelState() **State { return &b.st }

// StateOf returns the bookkeeping of a model instance (a pointer to a registered model
// struct), or nil when there is none yet.
func StateOf(obj any) *State {
	if h, ok := obj.(stateHolder); ok {
		return *h.modelState()
	}
	return nil
}

// EnsureState returns the bookkeeping of a model instance, creating it when needed.
func EnsureState(obj any) *State {
	h, ok := obj.(stateHolder)
	if !ok {
		return nil
	}
	p := h.modelState()
	if *p == nil {
		*p = &State{}
	}
	return *p
}

// ResetState clears the bookkeeping of a model instance.
func ResetState(obj any) {
	if h, ok := obj.(stateHolder); ok {
		*h.modelState() = nil
	}
}
