// Hardware panel front-end (placeholder until the panel lands).
export {};
