// Package domain holds zhucun's entities, rules and services, and declares
// the interfaces (stores, hashers, clocks) it needs from the outside.
//
// It imports the standard library only: HTTP lives in package api, MongoDB
// and photo stores in package storage, and cmd/zhucun wires them together.
package domain
