document.querySelectorAll('table.sortable th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0], down = th.dataset.dir !== 'desc';
  th.dataset.dir = down ? 'desc' : 'asc';
  const key = r => { const c = r.cells[col]; return c.dataset.v !== undefined ? parseFloat(c.dataset.v) : c.textContent; };
  [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
    const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return down ? -d : d; }).forEach(r => body.appendChild(r));
}));
