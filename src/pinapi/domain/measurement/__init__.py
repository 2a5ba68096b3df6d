"""Measurement: conversion events (engine-simulated now, real tag events later)."""
