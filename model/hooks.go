package model

import "context"

// Hooks are optional interfaces a model implements on its pointer type; the database
// handle calls them around Save and Delete. An error from a Before hook cancels the
// operation; an error from an After hook is returned after the write happened.
type (
	// BeforeSaver is called before a model is inserted or updated.
	BeforeSaver interface {
		BeforeSave(ctx context.Context) error
	}
	// AfterSaver is called after a model was inserted or updated.
	AfterSaver interface {
		AfterSave(ctx context.Context) error
	}
	// BeforeDeleter is called before a model is deleted.
	BeforeDeleter interface {
		BeforeDelete(ctx context.Context) error
	}
	// AfterDeleter is called after a model was deleted.
	AfterDeleter interface {
		AfterDelete(ctx context.Context) error
	}
)
