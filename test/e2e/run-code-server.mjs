// Integration tests inside a real VS Code (code-server + Chromium): placeholder until issue 2 lands them.
console.log('integration: no suites yet');
