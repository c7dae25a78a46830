// Integration tests talk to a real API server: give each test room for start-up and waits.
jest.setTimeout(120_000);
